using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Outcomes;

/// <summary>
/// Postgres going away never stops jobs and never loses or doubles an outcome: against a Postgres of the test's
/// own that it stops and starts, a pgbouncer in transaction mode, and hosts that do not answer.
/// </summary>
public sealed class PostgresOutageTests : WorkerTest
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static async Task<(PostgresServer Server, string Url)> OwnPostgresAsync()
    {
        var server = await PostgresServer.StartAsync();
        await server.ExecuteAsync("create database outcomes");
        return (server, server.Url("outcomes"));
    }

    private static async Task<long> RowsAsync(PostgresServer server, string sql = "select count(*) from jobd.outcomes")
    {
        await using var conn = new Npgsql.NpgsqlConnection(server.ConnectionString("outcomes"));
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task WaitForRowsAsync(PostgresServer server, long expected, TimeSpan timeout)
    {
        long seen = await Eventually.ReachesAsync(() => RowsAsync(server), expected, timeout);
        Assert.True(seen >= expected, $"{seen} outcome rows after {timeout.TotalSeconds}s, expected {expected}");
    }

    private Task WaitForDoneAsync(long expected, TimeSpan timeout) => WaitForCounterAsync("done", expected, timeout);

    [Fact]
    public async Task Postgres_stopped_in_the_middle_of_5000_jobs_gets_exactly_5000_rows()
    {
        var (server, url) = await OwnPostgresAsync();
        await using var _ = server;
        await using var worker = await H.StartWorkerAsync(("DATABASE_URL", url), ("JOBD_LOG_JOBS", "0"));
        await H.EnqueueAsync(WorkerHarness.Lines(2500, "{\"type\":\"noop\"}"));
        await WaitForRowsAsync(server, 1, Long);
        await server.StopAsync();
        await H.EnqueueAsync(WorkerHarness.Lines(2500, "{\"type\":\"noop\"}"));
        await WaitForDoneAsync(5000, Long); // jobs do not wait for Postgres
        await WorkerHarness.LogLineAsync(worker, "postgres down", Long);
        await server.StartAgainAsync();
        await WorkerHarness.LogLineAsync(worker, "postgres up", Long);
        await WaitForRowsAsync(server, 5000, Long);
        Assert.Equal(5000L, await RowsAsync(server));
        Assert.Equal(5000L, await RowsAsync(server, "select count(distinct job_id) from jobd.outcomes"));
        // No job ran twice: each has exactly one outcome, of its first attempt.
        Assert.Equal(0L, await RowsAsync(server, "select count(*) from jobd.outcomes where seq <> 1 or attempt <> 1 or state <> 'succeeded'"));
        Assert.Equal(1, Count(worker.Stderr.Snapshot(), "postgres down"));
    }

    [Fact]
    public async Task Outcomes_read_by_a_worker_killed_before_committing_them_still_arrive()
    {
        var (server, url) = await OwnPostgresAsync();
        await using var _ = server;
        // Take-over waits until entries were idle for max(3 heartbeats, command timeout + 5 s): 7 s here.
        var env = new[] { ("DATABASE_URL", url), ("JOBD_HEARTBEAT", "1s"), ("JOBD_PG_COMMAND_TIMEOUT", "2s") };
        await using (var a = await H.StartWorkerAsync(env))
        {
            await H.EnqueueAsync("{\"type\":\"noop\"}\n");
            await WaitForRowsAsync(server, 1, Long); // migrated and draining
            await server.StopAsync();
            await H.EnqueueAsync(WorkerHarness.Lines(50, "{\"type\":\"noop\"}"));
            await WaitForDoneAsync(51, Long);
            await WorkerHarness.LogLineAsync(a, "postgres down", Long); // its sink holds a batch it cannot commit
            a.Signal(ChildProcess.SIGKILL);
            await a.WaitForExitAsync(Long);
        }
        using (var p = Db.Probe())
        {
            var pending = (object?[])p.Call("XPENDING", "{jobd}:outbox", "sink")!;
            Assert.True((long)pending[0]! > 0, "the killed worker had read entries it never acknowledged");
        }

        await server.StartAgainAsync();
        await using var b = await H.StartWorkerAsync(env);
        await WaitForRowsAsync(server, 51, Long);
        Assert.Equal(51L, await RowsAsync(server));
        Assert.Equal(51L, await RowsAsync(server, "select count(distinct job_id) from jobd.outcomes"));
    }

    [Fact]
    public async Task Behind_pgbouncer_in_transaction_mode_outcomes_are_written()
    {
        await using var pg = await TestPostgres.CreateSchemaAsync();
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(pg.ConnectionString);
        await using var bouncer = await PgBouncer.StartAsync(cs.Host!, cs.Port, cs.Username!);
        var url = $"postgres://{cs.Username}@127.0.0.1:{bouncer.Port}/{cs.Database}?sslmode=disable";
        await using var worker = await H.StartWorkerAsync(("DATABASE_URL", url), ("JOBD_PG_SCHEMA", pg.Schema), ("JOBD_PG_POOL_MAX", "2"));
        await H.EnqueueAsync(WorkerHarness.Lines(300, "{\"type\":\"noop\"}"));
        var deadline = DateTime.UtcNow + Long;
        long rows = 0;
        while (DateTime.UtcNow < deadline && (rows = await pg.ScalarAsync<long>("select count(*) from outcomes")) < 300) await Task.Delay(100);
        Assert.Equal(300L, rows);
        Assert.DoesNotContain(worker.Stderr.Snapshot(), l => l.Contains("postgres", StringComparison.Ordinal) && l.Contains(" warn ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_database_is_one_line_and_jobs_run_regardless()
    {
        int closed = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("DATABASE_URL", $"postgres://jobd:s3cret-canary@127.0.0.1:{closed}/x?sslmode=disable"));
        await H.EnqueueAsync(WorkerHarness.Lines(20, "{\"type\":\"noop\"}"));
        await WaitForDoneAsync(20, Long);
        var line = await WorkerHarness.LogLineAsync(worker, "postgres down", Long);
        Assert.Contains("outbox", line);
        using (var p = Db.Probe()) Assert.Equal(20L, p.Call("XLEN", "{jobd}:outbox"));
        Assert.Equal(1, Count(worker.Stderr.Snapshot(), "postgres down"));
        Assert.DoesNotContain(worker.Stderr.Snapshot(), l => l.Contains("s3cret-canary", StringComparison.Ordinal));

        // `jobd stats` says the same: what waits, and why.
        await using var stats = JobdBinary.Start(new[] { "stats", "--json" }, JobdBinary.Env(("REDIS_URL", Db.Url)));
        Assert.Equal(0, await stats.WaitForExitAsync(Long));
        using var doc = System.Text.Json.JsonDocument.Parse(string.Join("\n", stats.Stdout.Snapshot()));
        Assert.Equal(20, doc.RootElement.GetProperty("outbox").GetInt64());
        Assert.StartsWith("down: ", doc.RootElement.GetProperty("workers")[0].GetProperty("sink").GetString());
        await using var text = JobdBinary.Start(new[] { "stats" }, JobdBinary.Env(("REDIS_URL", Db.Url)));
        Assert.Equal(0, await text.WaitForExitAsync(Long));
        Assert.Contains(text.Stdout.Snapshot(), l => l.StartsWith("outbox", StringComparison.Ordinal) && l.EndsWith(" 20", StringComparison.Ordinal));
        Assert.Contains(text.Stdout.Snapshot(), l => l.Contains("  down: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_that_never_answers_is_one_line_after_the_connect_timeout_and_jobs_run_regardless()
    {
        // A blackhole: the TCP connection opens, then nothing comes back (a dropped route, a hung server).
        await using var pg = await TestPostgres.CreateSchemaAsync();
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(pg.ConnectionString);
        await using var proxy = new FaultProxy(cs.Host!, cs.Port) { Mode = ProxyMode.Blackhole };
        var url = $"postgres://{cs.Username}@127.0.0.1:{proxy.Port}/{cs.Database}?connect_timeout=2";
        await using var worker = await H.StartWorkerAsync(("DATABASE_URL", url), ("JOBD_PG_SCHEMA", pg.Schema));
        await H.EnqueueAsync(WorkerHarness.Lines(20, "{\"type\":\"noop\"}"));
        await WaitForDoneAsync(20, Long);
        var line = await WorkerHarness.LogLineAsync(worker, "postgres down", TimeSpan.FromSeconds(30));
        Assert.Contains($"127.0.0.1:{proxy.Port}", line);
        await Task.Delay(3000); // a few more connect timeouts: still the one line
        Assert.Equal(1, Count(worker.Stderr.Snapshot(), "postgres down"));
        using (var p = Db.Probe()) Assert.Equal(20L, p.Call("XLEN", "{jobd}:outbox"));

        // The route comes back: the same worker drains what waited.
        proxy.Mode = ProxyMode.Pass;
        proxy.ResetAll();
        await WorkerHarness.LogLineAsync(worker, "postgres up", Long);
        Assert.Equal(20L, await Eventually.ReachesAsync(() => pg.ScalarAsync<long>("select count(*) from outcomes"), 20, Long));
    }

    [Fact]
    public async Task An_unresolvable_host_is_one_line_naming_it_not_a_config_error()
    {
        var worker = await H.StartWorkerAsync(("DATABASE_URL", "postgres://jobd@no-such-host.invalid:5432/x"));
        await using var _ = worker;
        await H.EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"noop\"}"));
        await WaitForDoneAsync(5, Long);
        var line = await WorkerHarness.LogLineAsync(worker, "postgres down", Long);
        Assert.Contains("no-such-host.invalid", line);
        await Task.Delay(2000);
        Assert.Equal(1, Count(worker.Stderr.Snapshot(), "postgres down"));
        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task With_postgres_down_SIGTERM_still_stops_at_once()
    {
        int closed = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("DATABASE_URL", $"postgres://jobd@127.0.0.1:{closed}/x"));
        await H.EnqueueAsync("{\"type\":\"noop\"}\n");
        await WorkerHarness.LogLineAsync(worker, "postgres down", Long);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        worker.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await worker.WaitForExitAsync(Long));
        // The sink does not wait out its backoff or a drain budget when nothing can be written.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"exit took {stopwatch.Elapsed.TotalSeconds:0.0}s");
    }

    [Fact]
    public async Task At_the_outbox_cap_the_worker_stops_taking_jobs_and_loses_none()
    {
        int closed = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("DATABASE_URL", $"postgres://jobd@127.0.0.1:{closed}/x"), ("JOBD_OUTBOX_MAX", "100"));
        await H.EnqueueAsync(WorkerHarness.Lines(150, "{\"type\":\"noop\"}"));
        await WorkerHarness.LogLineAsync(worker, "outbox full", Long);
        Assert.Equal(100L, Counter("done"));
        using var p = Db.Probe();
        Assert.Equal(50L, p.Call("LLEN", "{jobd}:q:default"));
        Assert.Equal(100L, p.Call("XLEN", "{jobd}:outbox"));
    }

    private static int Count(System.Collections.Generic.IReadOnlyList<string> lines, string text)
    {
        int n = 0;
        foreach (var l in lines) if (l.Contains(text, StringComparison.Ordinal)) n++;
        return n;
    }
}
