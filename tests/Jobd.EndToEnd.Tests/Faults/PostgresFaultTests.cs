using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Npgsql;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// Postgres faults (RELIABILITY.md G1, G3–G7, N6) against a Postgres of the test's own; G2 is PostgresOutageTests'.
/// Each scenario runs ledger jobs through the published binary, injects the fault while the sink writes, checks
/// that the execution loop kept going, then that every outcome landed exactly once and the ledger invariants hold.
/// </summary>
public sealed partial class PostgresFaultTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    private static async Task<object?> ScalarAsync(PostgresServer server, string sql)
    {
        await using var conn = new NpgsqlConnection(server.ConnectionString("outcomes"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>A Postgres of the scenario's own with its database "outcomes".</summary>
    private static async Task<PostgresServer> StartPostgresAsync(params string[] settings)
    {
        var pg = await PostgresServer.StartAsync(settings);
        await pg.ExecuteAsync("create database outcomes");
        return pg;
    }

    private static (string, string) Database(PostgresServer pg) => ("DATABASE_URL", pg.Url("outcomes"));

    /// <summary>Jobs done so far, by the counter the settling script keeps in Redis.</summary>
    private static long Done(FaultRun run)
    {
        using var p = run.Probe();
        return long.TryParse((string?)p.Call("HGET", "{jobd}:stats", "done"), out var n) ? n : 0;
    }

    /// <summary>While the fault lasts, jobs keep finishing: the execution loop does not wait for the sink.</summary>
    private static async Task<long> AssertJobsKeepFinishingAsync(FaultRun run, long more = 50)
    {
        long before = Done(run);
        long after = await Eventually.ReachesAsync(() => Task.FromResult(Done(run)), before + more, Long);
        Assert.True(after >= before + more, $"only {after - before} jobs finished during the fault");
        return after - before;
    }

    /// <summary>One row per job: nothing lost, nothing written twice.</summary>
    private static async Task AssertOneRowPerJobAsync(PostgresServer pg, long jobs)
    {
        await WaitForRowsAsync(pg, jobs);
        Assert.Equal(jobs, (long)(await ScalarAsync(pg, "select count(*) from jobd.outcomes"))!);
        Assert.Equal(jobs, (long)(await ScalarAsync(pg, "select count(distinct job_id) from jobd.outcomes"))!);
        Assert.Equal(0L, (long)(await ScalarAsync(pg, "select count(*) from jobd.outcomes where error like 'jobd: args and result not stored%'"))!);
    }

    /// <summary>At least this many rows (exact counts are asserted by the caller once the run has drained).</summary>
    private static async Task WaitForRowsAsync(PostgresServer server, long expected)
    {
        long seen = await Eventually.ReachesAsync(async () => (long)(await ScalarAsync(server, "select count(*) from jobd.outcomes"))!, expected, Long);
        Assert.True(seen >= expected, $"{seen} outcome rows after {Long.TotalSeconds} s, expected {expected}");
    }

    [Fact]
    public async Task G1_terminated_backends_are_reconnected_and_every_outcome_lands_once()
    {
        await using var pg = await PostgresServer.StartAsync();
        await pg.ExecuteAsync("create database outcomes");
        await using var run = await FaultRun.StartAsync("G1");
        await run.EnqueueAsync(1500, i => (i % 3, 0));
        var db = ("DATABASE_URL", pg.Url("outcomes"));
        var w = await run.StartWorkerAsync(db, ("JOBD_LOG_JOBS", "0"));
        await run.StartWorkerAsync(db, ("JOBD_LOG_JOBS", "0"));
        await WaitForRowsAsync(pg, 1); // the sink is writing
        long killed = 0;
        for (int i = 0; i < 3; i++)
        {
            killed += (long)(await ScalarAsync(pg, "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'jobd%') t"))!;
            run.Record(FaultKind.Other, 0, "pg_terminate_backend of jobd's connections");
            await Task.Delay(300);
        }
        Assert.True(killed > 0, "jobd held no Postgres connection to terminate");
        await run.DrainAsync(Long);
        await WaitForRowsAsync(pg, 1500);
        Assert.Equal(1500L, (long)(await ScalarAsync(pg, "select count(distinct job_id) from jobd.outcomes"))!);
        await run.CheckAsync();
        FaultTable.Record("G1", "pg_terminate_backend of jobd's connections, 3 times mid-run (2 workers, 1,500 jobs)",
            $"terminated {killed} backends; the sink reconnected and retried; exactly 1,500 rows", "I1–I5 hold; no duplicate row");
    }

    [Fact]
    public async Task G7_an_outcome_postgres_cannot_store_raw_is_sanitised_and_blocks_no_batch()
    {
        await using var pg = await PostgresServer.StartAsync();
        await pg.ExecuteAsync("create database outcomes");
        await using var run = await FaultRun.StartAsync("G7");
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 100; i++) sb.Append("{\"type\":\"noop\",\"args\":{\"n\":").Append(i).Append("}}\n");
        sb.Append("{\"type\":\"noop\",\"args\":{\"nul\":\"a\\u0000b\"}}\n");
        for (int i = 0; i < 100; i++) sb.Append("{\"type\":\"noop\",\"args\":{\"n\":").Append(i).Append("}}\n");
        var ids = await h.EnqueueAsync(sb.ToString());
        var poison = ids[100];
        // jobd enqueue refuses a lone surrogate escape; a producer writing the hash itself does not (it goes dead,
        // malformed_args, and its outcome still carries the args to Postgres).
        const string lone = "lone-surrogate-1";
        using (var p = run.Probe()) RawJob.Write(p, lone, RawJob.Fields("noop", "{\"lone\":\"\\ud800\"}"));
        await run.StartWorkerAsync(("DATABASE_URL", pg.Url("outcomes")));
        await WaitForRowsAsync(pg, 202);
        // Stored as a JSON string of the original text: jsonb holds it, nothing is lost.
        Assert.Equal("string", (string?)await ScalarAsync(pg, $"select jsonb_typeof(args) from jobd.outcomes where job_id = '{poison}'"));
        var stored = (string?)await ScalarAsync(pg, $"select args #>> '{{}}' from jobd.outcomes where job_id = '{poison}'");
        Assert.Equal("{\"nul\":\"a\\u0000b\"}", stored);
        Assert.NotNull(await ScalarAsync(pg, $"select args::text from jobd.outcomes where job_id = '{lone}'"));
        FaultTable.Record("G7", "outcome whose args hold \\u0000, amid 200 others; another (written raw) with a lone surrogate \\ud800",
            "both rows stored as JSON strings of their text; the other 200 rows of their batch landed", "no batch blocked");
    }
}
