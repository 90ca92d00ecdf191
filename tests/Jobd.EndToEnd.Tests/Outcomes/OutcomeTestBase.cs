using System;
using System.Linq;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Outcomes;

/// <summary>Workers with a Redis database and a throwaway Postgres schema of their own; outcome rows read back.</summary>
public abstract class OutcomeTestBase : WorkerTest, IAsyncLifetime
{
    protected PostgresTestSchema Pg { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        Pg = await TestPostgres.CreateSchemaAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await Pg.DisposeAsync();
        await DisposeAsync();
    }

    protected (string, string)[] PgEnv(string? url = null) =>
        new[] { ("DATABASE_URL", url ?? Pg.Url), ("JOBD_PG_SCHEMA", Pg.Schema), ("JOBD_HEARTBEAT", "1s") };

    protected Task<long> RowsAsync(string where = "true") => Pg.ScalarAsync<long>("select count(*) from outcomes where " + where);

    /// <summary>Rows arrive asynchronously (the sink drains the outbox): wait for at least the count.</summary>
    /// <param name="worker">Named in the failure with its state and last lines, to tell a stuck sink from a dead worker.</param>
    protected async Task WaitForRowsAsync(long expected, TimeSpan timeout, string where = "true", ChildProcess? worker = null)
    {
        long seen = await Eventually.ReachesAsync(() => RowsAsync(where), expected, timeout);
        if (seen >= expected) return;
        var about = worker is null ? "" : $"; the worker {(worker.HasExited ? "exited" : "runs")}, its last lines:\n" +
            string.Join("\n", worker.Stderr.Snapshot().TakeLast(15));
        Assert.Fail($"{seen} outcome rows after {timeout.TotalSeconds}s, expected {expected}{about}");
    }
}
