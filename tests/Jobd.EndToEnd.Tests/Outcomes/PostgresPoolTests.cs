using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Outcomes;

/// <summary>
/// The minimal pool, as Postgres sees it: the worker's connections counted in pg_stat_activity by their
/// application_name (the worker id), sampled while outcomes are written.
/// </summary>
public sealed class PostgresPoolTests : OutcomeTestBase
{
    private async Task<string> WorkerIdAsync()
    {
        long listed = await Eventually.ReachesAsync(() => Task.FromResult(H.Count("ZCARD", "{jobd}:workers")), 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1L, listed);
        using var p = Db.Probe();
        return (string)((object?[])p.Call("ZRANGE", "{jobd}:workers", "0", "-1")!)[0]!;
    }

    private Task<long> ConnectionsAsync(string workerId) =>
        Pg.ScalarAsync<long>($"select count(*) from pg_stat_activity where application_name = '{workerId}'");

    [Fact]
    public async Task With_pool_max_1_the_worker_never_holds_a_second_connection_and_closes_it_when_idle()
    {
        var env = new System.Collections.Generic.List<(string, string)>(PgEnv())
        {
            ("JOBD_PG_POOL_MAX", "1"), ("JOBD_PG_IDLE", "2s"), ("JOBD_LOG_JOBS", "0"),
        };
        await using var worker = await H.StartWorkerAsync(env.ToArray());
        var id = await WorkerIdAsync();
        await H.EnqueueAsync(WorkerHarness.Lines(3000, "{\"type\":\"noop\"}"));
        long most = 0, samples = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && await RowsAsync() < 3000)
        {
            most = Math.Max(most, await ConnectionsAsync(id));
            samples++;
            await Task.Delay(20);
        }
        Assert.Equal(3000L, await RowsAsync());
        // Once more after the last rows: an unloaded machine drains 3,000 jobs before the first look, and the
        // connection stays open for JOBD_PG_IDLE after its last use.
        most = Math.Max(most, await ConnectionsAsync(id));
        samples++;
        Assert.True(samples > 0);
        Assert.Equal(1L, most); // it was seen, and never two

        // Idle for JOBD_PG_IDLE: the pruner closes it (looked at every 2 s here).
        long open = await ConnectionsAsync(id);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (open > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
            open = await ConnectionsAsync(id);
        }
        Assert.Equal(0L, open);
        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task With_JOBD_PG_PREPARE_outcomes_are_written_over_prepared_statements()
    {
        var env = new System.Collections.Generic.List<(string, string)>(PgEnv()) { ("JOBD_PG_PREPARE", "1"), ("JOBD_LOG_JOBS", "0") };
        await using var worker = await H.StartWorkerAsync(env.ToArray());
        // Several batches, so the insert is used often enough to be prepared automatically.
        for (int i = 0; i < 5; i++)
        {
            await H.EnqueueAsync(WorkerHarness.Lines(50, "{\"type\":\"noop\"}"));
            await WaitForRowsAsync(50 * (i + 1), TimeSpan.FromSeconds(30));
        }
        Assert.Equal(250L, await RowsAsync());
        Assert.DoesNotContain(worker.Stderr.Snapshot(), l => l.Contains("postgres", StringComparison.Ordinal) && l.Contains(" warn ", StringComparison.Ordinal));
    }
}
