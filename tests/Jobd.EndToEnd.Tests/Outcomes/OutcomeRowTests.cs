using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Outcomes;

/// <summary>What lands in Postgres, through the published binary: a row per outcome, with its fields.</summary>
public sealed class OutcomeRowTests : OutcomeTestBase
{
    [Fact]
    public async Task Every_state_gets_its_row_keyed_by_job_and_outcome_number()
    {
        await using var worker = await H.StartWorkerAsync(PgEnv());
        var ids = await H.EnqueueAsync(
            "{\"type\":\"noop\",\"args\":{\"to\":\"ada\"}}\n" +
            "{\"type\":\"sleep\",\"args\":{\"ms\":1}}\n" +
            "{\"type\":\"fail\",\"args\":{\"permanent\":true,\"message\":\"boom\"}}\n" +
            "{\"type\":\"fail\",\"args\":{\"succeed_on_attempt\":2,\"retry_after_ms\":10}}\n" +
            "{\"type\":\"fail\",\"args\":{\"retry_after_ms\":10},\"max_attempts\":2}\n" +
            "{\"type\":\"no_such_type\"}\n");
        await WaitForRowsAsync(8, TimeSpan.FromSeconds(30));

        Assert.Equal("succeeded|1|{\"to\": \"ada\"}", await Pg.ScalarAsync<string>($"select state || '|' || attempt || '|' || args::text from outcomes where job_id = '{ids[0]}'"));
        Assert.Equal("{\"slept_ms\": 1}", await Pg.ScalarAsync<string>($"select result::text from outcomes where job_id = '{ids[1]}'"));
        Assert.Equal("dead|boom", await Pg.ScalarAsync<string>($"select state || '|' || error from outcomes where job_id = '{ids[2]}'"));
        Assert.Equal("1:failed,2:succeeded", await Pg.ScalarAsync<string>($"select string_agg(seq || ':' || state, ',' order by seq) from outcomes where job_id = '{ids[3]}'"));
        Assert.Equal("1:1:failed,2:2:dead", await Pg.ScalarAsync<string>($"select string_agg(seq || ':' || attempt || ':' || state, ',' order by seq) from outcomes where job_id = '{ids[4]}'"));
        Assert.StartsWith("dead|no_route", await Pg.ScalarAsync<string>($"select state || '|' || error from outcomes where job_id = '{ids[5]}'"));
        // Times and the worker are filled in, in order.
        Assert.Equal(0L, await RowsAsync("finished_at < started_at or started_at < enqueued_at or worker is null or duration_ms < 0 or max_attempts < 1"));
        await WaitForOutboxEmptyAsync();
    }

    [Fact]
    public async Task Arguments_jsonb_refuses_are_stored_as_text_and_block_nothing()
    {
        await using var worker = await H.StartWorkerAsync(PgEnv());
        var enqueued = await H.EnqueueAsync(
            "{\"type\":\"noop\",\"args\":{\"nul\":\"a\\u0000b\"}}\n" +
            "{\"type\":\"noop\",\"args\":{\"fine\":1}}\n");
        // A lone surrogate escape is refused by jobd enqueue; written into the hash directly it still reaches the sink.
        using (var p = Db.Probe()) Faults.RawJob.Write(p, "cut-surrogate", Faults.RawJob.Fields("noop", "{\"cut\":\"\\ud83d\"}"));
        var ids = new[] { enqueued[0], "cut-surrogate", enqueued[1] };
        await WaitForRowsAsync(3, TimeSpan.FromSeconds(30));
        Assert.Equal("string", await Pg.ScalarAsync<string>($"select jsonb_typeof(args) from outcomes where job_id = '{ids[0]}'"));
        Assert.Contains("u0000", await Pg.ScalarAsync<string>($"select args #>> '{{}}' from outcomes where job_id = '{ids[0]}'"));
        Assert.Equal("string", await Pg.ScalarAsync<string>($"select jsonb_typeof(args) from outcomes where job_id = '{ids[1]}'"));
        Assert.Equal("object", await Pg.ScalarAsync<string>($"select jsonb_typeof(args) from outcomes where job_id = '{ids[2]}'"));
    }

    [Fact]
    public async Task Once_redis_forgot_a_job_jobd_job_reads_its_outcomes_from_postgres()
    {
        await using var worker = await H.StartWorkerAsync(PgEnv());
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":2}}\n"))[0];
        await WaitForRowsAsync(1, TimeSpan.FromSeconds(30));
        using (var p = Db.Probe()) p.Call("DEL", "{jobd}:job:" + id); // as its TTL would

        var env = JobdBinary.Env(("REDIS_URL", Db.Url), ("DATABASE_URL", Pg.Url), ("JOBD_PG_SCHEMA", Pg.Schema));
        await using var job = JobdBinary.Start(new[] { "job", id }, env);
        Assert.Equal(0, await job.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var text = string.Join("\n", job.Stdout.Snapshot());
        Assert.Contains("source: postgres", text);
        Assert.Contains("state: succeeded", text);
        Assert.Contains("result: {\"slept_ms\": 2}", text);

        await using var json = JobdBinary.Start(new[] { "job", id, "--json" }, env);
        Assert.Equal(0, await json.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        using var doc = System.Text.Json.JsonDocument.Parse(string.Join("\n", json.Stdout.Snapshot()));
        Assert.Equal(2, doc.RootElement.GetProperty("outcomes")[0].GetProperty("result").GetProperty("slept_ms").GetInt32());

        await using var unknown = JobdBinary.Start(new[] { "job", "01M82RK22EC7G199P39EQF6R3Y" }, env);
        Assert.Equal(1, await unknown.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task The_metrics_endpoint_reports_the_outbox_and_postgres_state()
    {
        int port = FreePort.Next();
        var env = new System.Collections.Generic.List<(string, string)>(PgEnv()) { ("JOBD_METRICS_ADDR", $"127.0.0.1:{port}") };
        await using var worker = await H.StartWorkerAsync(env.ToArray());
        await H.EnqueueAsync(WorkerHarness.Lines(3, "{\"type\":\"noop\"}"));
        await WaitForRowsAsync(3, TimeSpan.FromSeconds(30));
        using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        PrometheusText metrics;
        do
        {
            // The outbox length is the control tick's last reading: wait for a tick after the drain.
            metrics = PrometheusText.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
            if (metrics.Value("jobd_outbox_length") == 0) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(1, metrics.Value("jobd_postgres_up"));
        Assert.Equal(0, metrics.Value("jobd_outbox_length"));
    }

    [Fact]
    public async Task A_row_postgres_refuses_is_stored_minimal_with_the_reason_and_one_refused_even_so_is_skipped()
    {
        await using var worker = await H.StartWorkerAsync(PgEnv());
        await WaitForTableAsync();
        // Checks an operator might add: one refuses these args (so the full row), one a type (so even the minimal row).
        await Pg.ScalarAsync<int>("alter table outcomes add constraint refuse_args check (args is null or not args ? 'refuse'); select 1");
        await Pg.ScalarAsync<int>("alter table outcomes add constraint refuse_type check (type <> 'refused_type'); select 1");
        var ids = await H.EnqueueAsync(
            "{\"type\":\"noop\",\"args\":{\"refuse\":1}}\n" +
            "{\"type\":\"fail\",\"args\":{\"refuse\":1,\"permanent\":true,\"message\":\"boom\"}}\n" +
            "{\"type\":\"refused_type\"}\n" +
            WorkerHarness.Lines(5, "{\"type\":\"noop\"}"));
        await WaitForRowsAsync(7, TimeSpan.FromSeconds(30), worker: worker);
        var line = await WorkerHarness.LogLineAsync(worker, "not stored: postgres refused even its minimal row", TimeSpan.FromSeconds(30));
        Assert.Contains("job " + ids[2], line);
        Assert.Contains("23514", line);
        await WaitForOutboxEmptyAsync(); // nothing blocked, nothing left behind

        // The succeeded row keeps its state and says why its args and result are missing.
        Assert.Equal("succeeded|true|true", await Pg.ScalarAsync<string>($"select state || '|' || (args is null) || '|' || (result is null) from outcomes where job_id = '{ids[0]}'"));
        var reason = await Pg.ScalarAsync<string>($"select error from outcomes where job_id = '{ids[0]}'");
        Assert.Contains("args and result not stored", reason);
        Assert.Contains("23514", reason);
        // A failed row keeps its own error after the note.
        Assert.EndsWith("the error: boom", await Pg.ScalarAsync<string>($"select error from outcomes where job_id = '{ids[1]}'"));
        Assert.Equal(0L, await RowsAsync($"job_id = '{ids[2]}'"));
        Assert.Equal(1, Count(worker.Stderr.Snapshot(), "not stored: postgres refused even its minimal row"));
        Assert.Equal(2, Count(worker.Stderr.Snapshot(), "stored without its args and result"));
    }

    [Fact]
    public async Task Jobd_stats_shows_the_outbox_and_an_idle_workers_sink_as_up_before_any_outcome()
    {
        int port = FreePort.Next();
        var env = new System.Collections.Generic.List<(string, string)>(PgEnv()) { ("JOBD_METRICS_ADDR", $"127.0.0.1:{port}") };
        await using var worker = await H.StartWorkerAsync(env.ToArray());
        // No job at all: connecting and migrating is enough to be up.
        string text = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !(text = await StatsAsync()).Contains("  up\n", StringComparison.Ordinal)) await Task.Delay(100);
        Assert.Contains("  up\n", text);
        Assert.Matches(@"(?m)^outbox +0$", text);
        using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(1, PrometheusText.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics")).Value("jobd_postgres_up"));

        using var doc = System.Text.Json.JsonDocument.Parse(await StatsAsync("--json"));
        Assert.Equal(0, doc.RootElement.GetProperty("outbox").GetInt64());
        Assert.Equal("up", doc.RootElement.GetProperty("workers")[0].GetProperty("sink").GetString());
        Assert.Equal(0L, await RowsAsync());
    }

    [Fact]
    public async Task A_database_url_with_sslmode_disable_alone_writes_outcomes()
    {
        await using var worker = await H.StartWorkerAsync(PgEnv(Pg.Url + "?sslmode=disable"));
        await H.EnqueueAsync(WorkerHarness.Lines(20, "{\"type\":\"noop\"}"));
        await WaitForRowsAsync(20, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(worker.Stderr.Snapshot(), l => l.Contains("postgres down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_DATABASE_URL_no_outbox_is_written()
    {
        await using var worker = await H.StartWorkerAsync();
        await H.EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"noop\"}"));
        await WaitForCounterAsync("done", 5, TimeSpan.FromSeconds(30));
        using var p = Db.Probe();
        Assert.Equal(0L, p.Call("EXISTS", "{jobd}:outbox"));
    }

    [Fact]
    public async Task Three_processes_migrating_at_once_apply_each_migration_once()
    {
        var env = JobdBinary.Env(("REDIS_URL", Db.Url), ("DATABASE_URL", Pg.Url), ("JOBD_PG_SCHEMA", Pg.Schema));
        var runs = new ChildProcess[3];
        for (int i = 0; i < runs.Length; i++) runs[i] = JobdBinary.Start(new[] { "migrate" }, env);
        int applied = 0;
        foreach (var run in runs)
        {
            await using (run)
            {
                Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(60)));
                var line = Assert.Single(run.Stdout.Snapshot());
                if (line.Contains("applied 001_outcomes", StringComparison.Ordinal)) applied++;
                else Assert.Contains("is up to date", line);
            }
        }
        Assert.Equal(1, applied);
        Assert.Equal(1L, await Pg.ScalarAsync<long>("select count(*) from migrations"));
    }

    [Fact]
    public async Task Migrate_without_a_database_is_one_line_and_exit_78()
    {
        await using var run = JobdBinary.Start(new[] { "migrate" }, JobdBinary.Env(("REDIS_URL", Db.Url)));
        Assert.Equal(78, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("DATABASE_URL is not set", Assert.Single(run.Stderr.Snapshot()));
    }

    [Fact]
    public async Task A_bad_schema_name_is_refused_at_start()
    {
        await using var run = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("DATABASE_URL", Pg.Url), ("JOBD_PG_SCHEMA", "x\";drop table y")));
        Assert.Equal(78, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("JOBD_PG_SCHEMA", Assert.Single(run.Stderr.Snapshot()));
    }

    private async Task<string> StatsAsync(string? flag = null)
    {
        var args = flag is null ? new[] { "stats" } : new[] { "stats", flag };
        await using var stats = JobdBinary.Start(args, JobdBinary.Env(("REDIS_URL", Db.Url)));
        Assert.Equal(0, await stats.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return string.Join("\n", stats.Stdout.Snapshot()) + "\n";
    }

    private async Task WaitForTableAsync()
    {
        long seen = await Eventually.ReachesAsync(() => Pg.ScalarAsync<long>(
            $"select count(*) from information_schema.tables where table_schema = '{Pg.Schema}' and table_name = 'outcomes'"), 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1L, seen);
    }

    private static int Count(System.Collections.Generic.IReadOnlyList<string> lines, string text)
    {
        int n = 0;
        foreach (var l in lines) if (l.Contains(text, StringComparison.Ordinal)) n++;
        return n;
    }

    private async Task WaitForOutboxEmptyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        long left = -1;
        while (DateTime.UtcNow < deadline)
        {
            using (var p = Db.Probe()) left = (long)p.Call("XLEN", "{jobd}:outbox")!;
            if (left == 0) break;
            await Task.Delay(50);
        }
        Assert.Equal(0L, left);
    }
}
