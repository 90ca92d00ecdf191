using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Jobd.Postgres;

/// <summary>
/// Applies the migrations not yet recorded in {schema}.migrations, all in one transaction that first takes a
/// transaction-scoped advisory lock: replicas starting together queue up instead of racing, and the lock is
/// released by COMMIT even behind PgBouncer in transaction mode (a session lock would not be).
/// </summary>
public sealed class Migrator
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresOptions _options;

    public Migrator(NpgsqlDataSource dataSource, PostgresOptions options)
    {
        _dataSource = dataSource;
        _options = options;
    }

    /// <summary>Returns the names of the migrations applied now (none when the schema was up to date).</summary>
    public async Task<List<string>> RunAsync(CancellationToken cancel)
    {
        var applied = new List<string>();
        await using var connection = await _dataSource.OpenConnectionAsync(cancel).ConfigureAwait(false);
        // Up to date: done without any DDL, so a worker whose role may not create schemas or tables (migrated by
        // `jobd migrate` as another role) starts as well. CREATE ... IF NOT EXISTS checks the privilege first.
        if (await UpToDateAsync(connection, cancel).ConfigureAwait(false)) return applied;
        await using var tx = await connection.BeginTransactionAsync(cancel).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey(_options.Schema) });
            await lockCommand.ExecuteNonQueryAsync(cancel).ConfigureAwait(false);
        }
        var schema = _options.QuotedSchema;
        await ExecuteAsync(connection, tx,
            "CREATE SCHEMA IF NOT EXISTS " + schema + ";" +
            "CREATE TABLE IF NOT EXISTS " + schema + ".migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            cancel).ConfigureAwait(false);
        var done = new HashSet<int>();
        await using (var read = new NpgsqlCommand("SELECT version FROM " + schema + ".migrations", connection, tx))
        await using (var reader = await read.ExecuteReaderAsync(cancel).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancel).ConfigureAwait(false)) done.Add(reader.GetInt32(0));
        }
        foreach (var m in Migration.All)
        {
            if (done.Contains(m.Version)) continue;
            await ExecuteAsync(connection, tx, m.SqlFor(_options), cancel).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO " + schema + ".migrations (version, name) VALUES ($1, $2)", connection, tx);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = m.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = m.Name });
            await record.ExecuteNonQueryAsync(cancel).ConfigureAwait(false);
            applied.Add(m.Name);
        }
        await tx.CommitAsync(cancel).ConfigureAwait(false);
        return applied;
    }

    private async Task<bool> UpToDateAsync(NpgsqlConnection connection, CancellationToken cancel)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection);
        exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _options.QuotedSchema + ".migrations" });
        if (!(bool)(await exists.ExecuteScalarAsync(cancel).ConfigureAwait(false))!) return false;
        var done = new HashSet<int>();
        await using (var read = new NpgsqlCommand("SELECT version FROM " + _options.QuotedSchema + ".migrations", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancel).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancel).ConfigureAwait(false)) done.Add(reader.GetInt32(0));
        }
        foreach (var m in Migration.All)
            if (!done.Contains(m.Version)) return false;
        return true;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancel)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>FNV-1a of "jobd.migrate:" + schema: one lock per schema, stable across versions and processes.</summary>
    internal static long LockKey(string schema)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in "jobd.migrate:" + schema)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }
}
