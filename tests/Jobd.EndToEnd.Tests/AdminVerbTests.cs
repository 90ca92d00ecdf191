using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>`jobd stats`, `jobd job` and `jobd dead list|retry|purge` against a real redis-server and real workers.</summary>
public sealed class AdminVerbTests : IAsyncLifetime
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);
    private const string Queues = "default,low";
    private RedisTestDatabase _db = null!;
    private WorkerHarness _h = null!;

    public async Task InitializeAsync()
    {
        _db = await TestRedis.LeaseAsync();
        _h = new WorkerHarness(_db.Url, _db.Probe);
    }

    public Task DisposeAsync()
    {
        _db.Dispose();
        return Task.CompletedTask;
    }

    private async Task<(int Code, IReadOnlyList<string> Out, IReadOnlyList<string> Err)> Jobd(params string[] args)
    {
        await using var p = JobdBinary.Start(args, JobdBinary.Env(("REDIS_URL", _db.Url), ("JOBD_QUEUES", Queues)));
        p.Stdin.Close();
        int code = await p.WaitForExitAsync(Quick);
        return (code, p.Stdout.Snapshot(), p.Stderr.Snapshot());
    }

    private async Task<JsonElement> JobdJson(params string[] args)
    {
        var (code, stdout, stderr) = await Jobd(args);
        Assert.True(code == 0, $"exit {code}: {string.Join("\n", stderr)}");
        Assert.Empty(stderr);
        using var doc = JsonDocument.Parse(Assert.Single(stdout));
        return doc.RootElement.Clone();
    }

    private static async Task StopAsync(ChildProcess worker)
    {
        worker.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        await worker.DisposeAsync();
    }

    /// <summary>Kills two jobs for good (one per queue, a-1 first) and one that succeeds, with one real worker.</summary>
    private async Task<ChildProcess> SeedAsync()
    {
        var worker = await _h.StartWorkerAsync(("JOBD_QUEUES", Queues));
        await _h.EnqueueAsync("{\"type\":\"fail\",\"id\":\"a-1\",\"args\":{\"permanent\":true,\"message\":\"bad\\ninput\"}}\n");
        await WorkerHarness.LogLineAsync(worker, "job a-1 failed for good", Quick);
        await _h.EnqueueAsync("{\"type\":\"fail\",\"id\":\"a-2\",\"queue\":\"low\",\"args\":{\"permanent\":true}}\n");
        await WorkerHarness.LogLineAsync(worker, "job a-2 failed for good", Quick);
        await _h.EnqueueAsync("{\"type\":\"noop\",\"id\":\"ok-1\"}\n");
        await WorkerHarness.LogLineAsync(worker, "job ok-1 noop done", Quick);
        return worker;
    }

    [Fact]
    public async Task Stats_counts_queues_dead_jobs_counters_and_the_live_worker()
    {
        var worker = await SeedAsync();
        try
        {
            await _h.EnqueueAsync("{\"type\":\"noop\",\"queue\":\"extra\"}\n{\"type\":\"noop\",\"queue\":\"extra\"}\n{\"type\":\"noop\",\"in\":\"1h\"}\n");
            var s = await JobdJson("stats", "--json");
            Assert.Equal(2, s.GetProperty("queues").GetProperty("extra").GetInt64()); // not served by the worker
            Assert.Equal(0, s.GetProperty("queues").GetProperty("default").GetInt64());
            Assert.Equal(0, s.GetProperty("queues").GetProperty("low").GetInt64());
            Assert.Equal(1, s.GetProperty("scheduled").GetInt64());
            Assert.Equal(0, s.GetProperty("running").GetInt64());
            Assert.Equal(2, s.GetProperty("dead").GetInt64());
            Assert.Equal(1, s.GetProperty("counters").GetProperty("done").GetInt64());
            Assert.Equal(2, s.GetProperty("counters").GetProperty("dead").GetInt64());
            Assert.Equal(0, s.GetProperty("counters").GetProperty("retried").GetInt64());
            var w = Assert.Single(s.GetProperty("workers").EnumerateArray());
            Assert.InRange(w.GetProperty("heartbeat_age_ms").GetInt64(), 0, 30_000);
            Assert.Equal(JsonValueKind.Null, w.GetProperty("job").ValueKind);

            var (code, text, err) = await Jobd("stats");
            Assert.Equal(0, code);
            Assert.Empty(err);
            Assert.Contains(text, l => l.StartsWith("extra ", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));
            Assert.Contains("dead      2", text);
            Assert.Contains("counters  done 1  dead 2  retried 0  recovered 0", text);
            Assert.Contains("workers   1", text);
        }
        finally
        {
            await StopAsync(worker);
        }
    }

    [Fact]
    public async Task Job_prints_every_field_with_times_in_rfc3339_or_as_json()
    {
        await StopAsync(await SeedAsync());
        var (code, lines, err) = await Jobd("job", "a-1");
        Assert.Equal(0, code);
        Assert.Empty(err);
        Assert.Contains("id: a-1", lines);
        Assert.Contains("state: dead", lines);
        Assert.Contains("type: fail", lines);
        Assert.Contains("args: {\"permanent\":true,\"message\":\"bad\\ninput\"}", lines);
        Assert.Contains("last_error: bad\\ninput", lines);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^finished_at: \d{13} \(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)$"));

        var job = await JobdJson("job", "ok-1", "--json");
        Assert.Equal("ok-1", job.GetProperty("id").GetString());
        Assert.Equal("done", job.GetProperty("state").GetString());
        Assert.Equal("{}", job.GetProperty("args").GetString());
        Assert.Equal("1", job.GetProperty("attempt").GetString());
    }

    [Fact]
    public async Task Dead_list_is_newest_first_and_filters_by_queue()
    {
        await StopAsync(await SeedAsync());
        var (code, lines, err) = await Jobd("dead", "list");
        Assert.Equal(0, code);
        Assert.Empty(err);
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("a-2  fail  low  ", lines[0]);
        Assert.StartsWith("a-1  fail  default  ", lines[1]);
        Assert.EndsWith("  bad\\ninput", lines[1]); // the newline of the reason escaped: one line per job

        var low = await JobdJson("dead", "list", "--queue", "low", "--json");
        var only = Assert.Single(low.EnumerateArray());
        Assert.Equal("a-2", only.GetProperty("id").GetString());
        Assert.Equal(1, only.GetProperty("attempt").GetInt64());

        var limited = await JobdJson("dead", "list", "--limit", "1", "--json");
        Assert.Equal("a-2", Assert.Single(limited.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Dead_retry_makes_a_job_ready_with_attempts_reset_and_a_worker_runs_it_again()
    {
        var worker = await _h.StartWorkerAsync(("JOBD_QUEUES", Queues));
        await _h.EnqueueAsync("{\"type\":\"fail\",\"id\":\"r-1\",\"max_attempts\":2,\"args\":{\"retry_after_ms\":1}}\n");
        await WorkerHarness.LogLineAsync(worker, "job r-1 failed for good", Quick);
        await StopAsync(worker);
        Assert.Equal("2", _h.Field("r-1", "attempt"));

        var (code, stdout, err) = await Jobd("dead", "retry", "r-1");
        Assert.Equal(0, code);
        Assert.Empty(err);
        Assert.Equal("retried 1 job", Assert.Single(stdout));
        var job = await JobdJson("job", "r-1", "--json");
        Assert.Equal("ready", job.GetProperty("state").GetString());
        Assert.Equal("0", job.GetProperty("attempt").GetString());
        Assert.StartsWith("attempts exhausted (2)", job.GetProperty("last_error").GetString());
        Assert.Equal(0, _h.Count("ZCARD", "{jobd}:dead"));
        using (var p = _db.Probe()) Assert.Equal(-1L, p.Call("PTTL", "{jobd}:job:r-1"));

        worker = await _h.StartWorkerAsync(("JOBD_QUEUES", Queues));
        try
        {
            await WorkerHarness.LogLineAsync(worker, "job r-1 fail started (queue default, attempt 1/2)", Quick);
            await WorkerHarness.LogLineAsync(worker, "job r-1 failed for good", Quick);
        }
        finally
        {
            await StopAsync(worker);
        }
        Assert.Equal("dead", _h.Field("r-1", "state"));

        var (again, _, notDead) = await Jobd("dead", "retry", "ok-none");
        Assert.Equal(1, again);
        Assert.Contains("job ok-none is not dead", Assert.Single(notDead));
    }

    [Fact]
    public async Task Dead_retry_all_by_queue_then_purge_empties_the_dead_set()
    {
        await StopAsync(await SeedAsync());
        var (code, stdout, _) = await Jobd("dead", "retry", "--all", "--queue", "low");
        Assert.Equal(0, code);
        Assert.Equal("retried 1 job", Assert.Single(stdout));
        Assert.Equal("ready", _h.Field("a-2", "state"));
        Assert.Equal("dead", _h.Field("a-1", "state"));
        Assert.Equal(1, _h.Count("LLEN", "{jobd}:q:low"));

        (code, stdout, _) = await Jobd("dead", "purge");
        Assert.Equal(0, code);
        Assert.Equal("purged 1 job", Assert.Single(stdout));
        Assert.Null(_h.Field("a-1", "state"));
        Assert.Equal(0, _h.Count("ZCARD", "{jobd}:dead"));
        Assert.Equal("ready", _h.Field("a-2", "state"));
        var (missing, _, err) = await Jobd("job", "a-1");
        Assert.Equal(1, missing);
        Assert.Equal("jobd: no job a-1 (never existed, or its data expired after JOBD_DONE_TTL / JOBD_DEAD_TTL)", Assert.Single(err));
    }

    [Theory]
    [InlineData(64, "unknown dead sub-verb \"bury\"", "dead", "bury")]
    [InlineData(64, "dead needs list, retry or purge", "dead")]
    [InlineData(64, "dead retry needs a job ID or --all", "dead", "retry")]
    [InlineData(64, "dead retry needs a job ID or --all", "dead", "retry", "x", "--all")]
    [InlineData(64, "dead list takes no job ID", "dead", "list", "x")]
    [InlineData(64, "unexpected argument", "job", "a", "b")]
    [InlineData(64, "job needs one job ID", "job")]
    [InlineData(64, "unknown flag \"--all\" for `jobd stats`", "stats", "--all")]
    [InlineData(65, "bad job id \"a b\"", "job", "a b")]
    [InlineData(65, "bad job id", "dead", "retry", "{evil}")]
    [InlineData(65, "bad --limit \"0\"", "dead", "list", "--limit", "0")]
    [InlineData(65, "bad --limit \"10001\"", "dead", "list", "--limit", "10001")]
    [InlineData(65, "bad queue", "dead", "purge", "--queue", "a:b")]
    [InlineData(1, "no job nope (never existed", "job", "nope")]
    public async Task Bad_input_is_one_line_on_stderr_with_its_exit_code(int expectedCode, string expected, params string[] args)
    {
        var (code, stdout, stderr) = await Jobd(args);
        Assert.Equal(expectedCode, code);
        Assert.Empty(stdout);
        Assert.Contains(expected, Assert.Single(stderr));
    }

    [Fact]
    public async Task Redis_unavailable_is_exit_69()
    {
        int port = FreePort.Next();
        await using var p = JobdBinary.Start(new[] { "stats" }, JobdBinary.Env(("REDIS_URL", $"redis://127.0.0.1:{port}"), ("JOBD_REDIS_CONNECT_TIMEOUT", "1s")));
        Assert.Equal(69, await p.WaitForExitAsync(Quick));
        Assert.Contains("redis unavailable", Assert.Single(p.Stderr.Snapshot()));
    }
}
