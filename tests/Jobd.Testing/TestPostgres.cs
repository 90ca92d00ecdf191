using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Jobd.Testing;

/// <summary>
/// One Postgres for the whole test run (or the server DATABASE_URL names), shared by giving each test a throwaway
/// schema that is dropped when the test ends.
/// </summary>
public static class TestPostgres
{
    private const string Database = "jobd_test";
    private static readonly object Gate = new();
    private static Task<string>? _baseConnectionString;
    private static int _counter;

    public static async Task<PostgresTestSchema> CreateSchemaAsync()
    {
        var cs = await BaseConnectionString().ConfigureAwait(false);
        var schema = $"t{Environment.ProcessId}_{Interlocked.Increment(ref _counter)}";
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync().ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand($"create schema {schema}", conn);
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        var b = new NpgsqlConnectionStringBuilder(cs) { SearchPath = schema };
        return new PostgresTestSchema(schema, b.ConnectionString, cs);
    }

    private static Task<string> BaseConnectionString()
    {
        lock (Gate) return _baseConnectionString ??= StartOrUseExisting();
    }

    private static async Task<string> StartOrUseExisting()
    {
        var url = Environment.GetEnvironmentVariable("DATABASE_URL");
        if (!string.IsNullOrEmpty(url)) return ToConnectionString(url);
        StaleServers.SweepOnce();
        var server = await PostgresServer.StartAsync().ConfigureAwait(false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        await server.ExecuteAsync($"create database {Database}").ConfigureAwait(false);
        return server.ConnectionString(Database);
    }

    private static string ToConnectionString(string url)
    {
        if (!url.StartsWith("postgres", StringComparison.Ordinal)) return url;
        var uri = new Uri(url);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = uri.AbsolutePath.TrimStart('/'),
        };
        var colon = uri.UserInfo.IndexOf(':');
        b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
        if (colon >= 0) b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        return b.ConnectionString;
    }
}

public sealed class PostgresTestSchema : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    internal PostgresTestSchema(string schema, string connectionString, string adminConnectionString)
    {
        Schema = schema;
        ConnectionString = connectionString;
        _adminConnectionString = adminConnectionString;
    }

    public string Schema { get; }

    /// <summary>Connects with search_path set to the throwaway schema.</summary>
    public string ConnectionString { get; }

    /// <summary>The server and database as a postgres:// URL, the form users give jobd in DATABASE_URL.</summary>
    public string Url
    {
        get
        {
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
            var user = Uri.EscapeDataString(b.Username ?? "postgres") + (b.Password is { Length: > 0 } pw ? ":" + Uri.EscapeDataString(pw) : "");
            return $"postgres://{user}@{b.Host}:{b.Port}/{Uri.EscapeDataString(b.Database ?? "postgres")}";
        }
    }

    /// <summary>Runs a scalar query on the throwaway schema (its tables need no qualification).</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    public async ValueTask DisposeAsync()
    {
        await using var conn = new NpgsqlConnection(_adminConnectionString);
        await conn.OpenAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"drop schema if exists {Schema} cascade", conn);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
