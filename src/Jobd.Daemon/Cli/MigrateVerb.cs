using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Postgres;
using Npgsql;

namespace Jobd.Cli;

/// <summary>
/// `jobd migrate`: applies the Postgres migrations now, under the same advisory lock `jobd run` takes at start,
/// and says which ran. For deployments that migrate in a release step rather than at worker start.
/// </summary>
public static class MigrateVerb
{
    public static async Task<int> RunAsync(JobdConfig config, TextWriter stdout, TextWriter stderr)
    {
        if (config.Database is not { } database)
        {
            stderr.WriteLine("jobd: migrate: DATABASE_URL is not set; there is no database to migrate");
            return ExitCodes.Config;
        }
        await using var dataSource = PostgresDataSource.Create(database, config.Postgres, "jobd migrate");
        using var timeout = new CancellationTokenSource(config.Postgres.CommandTimeout + TimeSpan.FromSeconds(15));
        try
        {
            var applied = await new Migrator(dataSource, config.Postgres).RunAsync(timeout.Token).ConfigureAwait(false);
            stdout.WriteLine(applied.Count == 0
                ? $"schema {config.Postgres.Schema} is up to date ({Migration.All.Count} migrations)"
                : $"schema {config.Postgres.Schema}: applied {string.Join(", ", applied)}");
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            stderr.WriteLine($"jobd: migrate: postgres {database.Redacted()}: {Ops.TextEscape.Escape(e is OperationCanceledException ? "timed out" : PostgresDataSource.Describe(e), 300)}");
            // Refused (credentials, permissions): configuration to fix. Unreachable: try again later.
            return e is PostgresException ? ExitCodes.Config : ExitCodes.Unavailable;
        }
    }
}
