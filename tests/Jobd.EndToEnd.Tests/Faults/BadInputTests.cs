using System;
using System.Collections.Generic;
using System.Text;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md "Bad input", worker side: jobs written straight into Redis by a producer that skips the enqueue
/// script, mixed with ordinary ledger jobs. Each bad job must end dead with a reason naming what is wrong, in one log
/// line, while the loop keeps running the others; then the ledger checker (I1–I5) runs over everything.
/// </summary>
public sealed class BadInputTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(60);

    /// <summary>A raw job, and what must become of it: a reason in last_error, or null for done.</summary>
    private sealed record Case(string Id, Dictionary<string, byte[]?> Fields, string? Reason);

    /// <summary>Jobs meant to run use the ledger handler, so the checker (I2) sees each accepted run.</summary>
    private static Case With(string id, string? reason, Action<Dictionary<string, byte[]?>> change)
    {
        var f = RawJob.Fields(reason is null ? "ledger" : "noop");
        change(f);
        return new Case(id, f, reason);
    }

    private static Action<Dictionary<string, byte[]?>> Set(string field, string? value) =>
        f => f[field] = value is null ? null : RawJob.Utf8(value);

    private static Action<Dictionary<string, byte[]?>> Args(byte[] args) => f => f["args"] = args;

    /// <summary>
    /// Writes the cases between ledger jobs, waits for all to settle, checks each outcome and its one log line,
    /// then the invariants. Returns the run (for the caller's own checks) and the worker.
    /// </summary>
    private static async Task<(FaultRun Run, ChildProcess Worker)> RunCasesAsync(string scenario, IReadOnlyList<Case> cases,
        params (string, string)[] env)
    {
        var run = await FaultRun.StartAsync(scenario);
        try
        {
            var w = await run.StartWorkerAsync(env);
            using (var p = run.Probe())
                foreach (var c in cases)
                {
                    await run.EnqueueAsync(2, _ => (0, 0));
                    RawJob.Write(p, c.Id, c.Fields);
                    run.Adopt(c.Id);
                }
            await run.EnqueueAsync(20, _ => (0, 0));
            await run.DrainAsync(Drain);
            using (var p = run.Probe())
                foreach (var c in cases)
                {
                    var v = (object?[])p.Call("HMGET", "{jobd}:job:" + c.Id, "state", "last_error")!;
                    if (c.Reason is null)
                    {
                        Assert.True("done" == (string?)v[0], $"{Show(c.Id)}: {v[0]} {v[1]}, expected done");
                        continue;
                    }
                    Assert.True("dead" == (string?)v[0], $"{Show(c.Id)}: {v[0]}, expected dead with '{c.Reason}'");
                    Assert.Contains(c.Reason, (string?)v[1] ?? "");
                }
            await run.CheckAsync(); // stops the worker: every line it wrote has been read
            foreach (var c in cases)
            {
                if (c.Reason is null) continue;
                // One line for the state change, naming the job (its id escaped) and the reason.
                int lines = run.CountLines($"job {Escaped(c.Id)} is dead without running: ")
                            + run.CountLines($"job {Escaped(c.Id)} failed for good: malformed_args");
                Assert.True(lines == 1, $"{Show(c.Id)}: {lines} log lines for its death, expected 1");
            }
            return (run, w);
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    private static string Escaped(string id) => id.Replace("\n", "\\n", StringComparison.Ordinal);
    private static string Show(string id) => "job '" + Escaped(id) + "'";

    [Fact]
    public async Task B_wrong_shape_jobs_go_dead_naming_the_field_and_the_loop_continues()
    {
        var cases = new List<Case>
        {
            With("no-type", "malformed_job: type is missing", Set("type", null)),
            With("", "malformed_job: id must be", _ => { }), // an empty list element, with a hash at {jobd}:job:
            With("has space", "malformed_job: id must be", _ => { }),
            With("no-queue", "malformed_job: queue is missing", Set("queue", null)),
            With("brace-queue", "malformed_job: queue must be", Set("queue", "a{b}")),
            With("type-with-newline", "malformed_job: type must be", Set("type", "x\n<0>forged emergency")),
            With("no-args", "malformed_job: args is missing", Set("args", null)),
            With("args-array", "malformed_job: args must be a JSON object", Set("args", "[1,2]")),
            With("args-string", "malformed_job: args must be a JSON object", Set("args", "\"text\"")),
            With("truncated", "malformed_args: not valid JSON", Set("args", "{\"id\":\"1\",\"ty")),
            With("attempts-0", "malformed_job: max_attempts must be", Set("max_attempts", "0")),
            With("attempts-neg", "malformed_job: max_attempts must be", Set("max_attempts", "-1")),
            With("attempts-1e9", "malformed_job: max_attempts must be", Set("max_attempts", "1e9")),
            With("timeout-0", "malformed_job: timeout_ms must be", Set("timeout_ms", "0")),
            With("timeout-neg", "malformed_job: timeout_ms must be", Set("timeout_ms", "-5")),
            With("timeout-1e12", "malformed_job: timeout_ms must be", Set("timeout_ms", "1e12")),
            With("run-at-nan", "malformed_job: run_at must be", Set("run_at", "NaN")),
            With("run-at-10000", "malformed_job: run_at must be", Set("run_at", "253402300800000")),
            With("attempt-x", "malformed_job: attempt must be", Set("attempt", "x")),
            With("recoveries-neg", "malformed_job: recoveries must be", Set("recoveries", "-1")),
            With("no-enqueued-at", "malformed_job: enqueued_at must be", Set("enqueued_at", null)),
            // Within the documented ranges: run (run_at of a ready job only says when it was due).
            With("run-at-9999", null, Set("run_at", "253402300799999")),
            With("attempts-1e3", null, Set("max_attempts", "1e3")),
        };
        var (run, _) = await RunCasesAsync("B-wrong-shape", cases);
        await using (run)
        {
            Assert.Equal(0, run.CountLines("internal error")); // and I5: the worker was still up (CheckAsync)
            // The forged type never reached a line: the hash was refused before anything read the type.
            foreach (var line in run.AllLogLines()) Assert.DoesNotContain("forged", line);
            await using var list = JobdBinary.Start(new[] { "dead", "list", "--limit", "100" }, JobdBinary.Env(("REDIS_URL", run.RedisUrl)));
            Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            FaultTable.Record("B-wrong-shape", "job hashes written raw (PROTOCOL.md fields): missing id/type/queue/args/enqueued_at, args not an object, max_attempts 0/-1/1e9, timeout_ms 0/-5/1e12, run_at NaN/year 10000, attempt x, recoveries -1; truncated args",
                $"each dead at once with 'malformed_job: <field> …' (truncated JSON: 'malformed_args: not valid JSON (line 1, byte 14)'), one line each; run_at year 9999 and max_attempts 1e3 are in range and ran; {run.Ids.Count - cases.Count} ledger jobs between them ran. Was: 1e9/-5/1e12 crashed the worker (exit 70), a hash without args or attempt aborted take.lua after its RPOP (job lost), one without type vanished silently, truncated args ran",
                "I1–I5 hold; no crash, no stall");
        }
    }

    [Fact]
    public async Task B_hostile_json_written_raw_goes_dead_with_bounded_cpu_and_memory()
    {
        var keys = new StringBuilder("{");
        for (int i = 0; i < 100_000; i++) keys.Append(i == 0 ? "" : ",").Append("\"k").Append(i).Append("\":0");
        string distinct = keys.ToString() + "}", duplicated = keys.ToString() + ",\"k77\":1}";
        var invalidUtf8 = RawJob.Utf8("{\"a\":\"xx\"}");
        invalidUtf8[6] = 0xFF;
        var bom = new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}' };
        var cases = new List<Case>
        {
            With("depth-1000", "malformed_args: nested deeper than 64 levels", Set("args", "{\"a\":" + new string('[', 1000) + new string(']', 1000) + "}")),
            With("keys-100k-dup", "malformed_args: duplicate key", Set("args", duplicated)),
            With("keys-100k", null, Set("args", distinct)),
            With("dup-keys", "malformed_args: duplicate key at byte 8", Set("args", "{\"a\":1,\"a\":2}")),
            With("invalid-utf8", "malformed_args: not valid UTF-8 at byte 7", Args(invalidUtf8)),
            With("lone-surrogate", "malformed_args: a \\u escape of a lone surrogate", Set("args", "{\"a\":\"\\ud800\"}")),
            With("nul-escape", null, Set("args", "{\"a\":\"\\u0000\"}")), // valid JSON: runs
            With("bom", "malformed_job: args must be a JSON object", Args(bom)),
            With("comment", "malformed_args: not valid JSON", Set("args", "{/* c */\"a\":1}")),
            With("trailing-comma", "malformed_args: not valid JSON", Set("args", "{\"a\":1,}")),
            With("trailing-garbage", "malformed_args: not valid JSON", Set("args", "{\"a\":1} x")),
        };
        var run = await FaultRun.StartAsync("B-hostile-json-raw");
        await using (run)
        {
            var w = await run.StartWorkerAsync(("JOBD_MAX_JOB_BYTES", "4MB"));
            long peakBefore = ProcFs.PeakRssBytes(w.Pid), cpuBefore = ProcFs.CpuMs(w.Pid);
            using (var p = run.Probe())
                foreach (var c in cases)
                {
                    await run.EnqueueAsync(2, _ => (0, 0));
                    RawJob.Write(p, c.Id, c.Fields);
                    run.Adopt(c.Id);
                }
            await run.DrainAsync(Drain);
            long peakGrowth = ProcFs.PeakRssBytes(w.Pid) - peakBefore, cpu = ProcFs.CpuMs(w.Pid) - cpuBefore;
            using (var p = run.Probe())
                foreach (var c in cases)
                {
                    var v = (object?[])p.Call("HMGET", "{jobd}:job:" + c.Id, "state", "last_error")!;
                    Assert.True((c.Reason is null ? "done" : "dead") == (string?)v[0], $"{c.Id}: {v[0]} {v[1]}");
                    if (c.Reason is not null) Assert.Contains(c.Reason, (string?)v[1] ?? "");
                }
            await run.CheckAsync();
            // Bounded: the arguments are at most JOBD_MAX_JOB_BYTES (4 MB here); nothing grows with depth or keys.
            Assert.True(peakGrowth < 64L << 20, $"peak RSS grew {peakGrowth >> 20} MB");
            FaultTable.Record("B-hostile-json-raw", "args written raw: depth 1000, 100k keys (with and without a duplicate), duplicate keys, invalid UTF-8, \"\\ud800\", \"\\u0000\", BOM, comments, trailing comma, trailing garbage",
                $"each hostile one dead with 'malformed_args: …' naming the problem and byte (BOM: 'malformed_job: args must be a JSON object'), checked on the bytes Redis holds; \\u0000 and 100k distinct keys are valid JSON and ran; worker peak RSS +{peakGrowth >> 20} MB, {cpu} ms CPU for all of it (1.1 MB of keys included)",
                "I1–I5 hold; bounded");
        }
    }

    [Fact]
    public async Task B_oversized_a_20_mb_job_goes_dead_server_side_and_the_worker_never_holds_it()
    {
        await using var run = await FaultRun.StartAsync("B-oversized");
        var w = await run.StartWorkerAsync();
        await run.EnqueueAsync(20, _ => (0, 0));
        await run.DrainAsync(Drain);
        long peakBefore = ProcFs.PeakRssBytes(w.Pid);
        var big = new byte[20 << 20];
        big.AsSpan().Fill((byte)'x');
        RawJob.Utf8("{\"blob\":\"").CopyTo(big, 0);
        RawJob.Utf8("\"}").CopyTo(big, big.Length - 2);
        using (var p = run.Probe())
        {
            var f = RawJob.Fields();
            f["args"] = big;
            RawJob.Write(p, "huge", f);
            run.Adopt("huge");
        }
        await run.EnqueueAsync(20, _ => (0, 0));
        await run.DrainAsync(Drain);
        long peakGrowth = ProcFs.PeakRssBytes(w.Pid) - peakBefore;
        using (var p = run.Probe())
            Assert.Equal($"payload_too_large ({20 << 20} bytes)", (string?)p.Call("HGET", "{jobd}:job:huge", "last_error"));
        // The 20 MB never crossed to the worker: a reply holding it would add at least 20 MB (40 MB as a string).
        Assert.True(peakGrowth < 10L << 20, $"peak RSS grew {peakGrowth >> 20} MB");
        await run.CheckAsync();
        Assert.Equal(1, run.CountLines("job huge is dead without running: payload_too_large"));

        // The producer side refuses it before Redis: one line, exit 65.
        await using var enqueue = JobdBinary.Start(new[] { "enqueue", "noop", "-" }, JobdBinary.Env(("REDIS_URL", run.RedisUrl)));
        try { await enqueue.Stdin.BaseStream.WriteAsync(big); enqueue.Stdin.Close(); }
        catch (System.IO.IOException) { } // it stopped reading past the limit
        Assert.Equal(65, await enqueue.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var line = Assert.Single(enqueue.Stderr.Snapshot());
        Assert.Contains("JOBD_MAX_JOB_BYTES", line);
        FaultTable.Record("B-oversized", "20 MB args written into a job hash (JOBD_MAX_JOB_BYTES 1 MB); the same through jobd enqueue",
            $"take.lua moved it to dead 'payload_too_large (20971520 bytes)' without returning it; one line; worker peak RSS +{peakGrowth >> 20} MB; jobd enqueue refused it, exit 65, one line naming JOBD_MAX_JOB_BYTES",
            "I1–I5 hold; RSS flat");
    }

    [Fact]
    public async Task B_an_id_pushed_twice_runs_once_and_each_extra_entry_is_one_line()
    {
        await using var run = await FaultRun.StartAsync("B-duplicate-entry");
        var ids = await run.EnqueueAsync(30, _ => (30, 0));
        await run.StartWorkerAsync();
        // Extra entries for the same ids, as a raw producer's retried LPUSH would leave: some land while the job is
        // still queued, some while it runs, some after it finished.
        for (int i = 0; i < ids.Length; i++)
        {
            using (var p = run.Probe())
            {
                p.Call("LPUSH", "{jobd}:q:default", ids[i]);
                p.Call("LPUSH", "{jobd}:wake:default", "1"); // its wake token, as PROTOCOL.md asks of a producer
            }
            if (i % 10 == 9) await Task.Delay(300);
        }
        await run.DrainAsync(Drain);
        // Entries pushed after the last job finished wake the idle worker, whose take drops them.
        using (var p = run.Probe())
            for (int i = 0; i < 100 && (long)p.Call("LLEN", "{jobd}:q:default")! > 0; i++) await Task.Delay(50);
        using (var p = run.Probe()) Assert.Equal(0L, p.Call("LLEN", "{jobd}:q:default"));
        await run.CheckAsync(); // I2: a second run without a recovery fails here; stops the worker
        Assert.Equal(ids.Length, Ledger.Read(run.LedgerDir).Count);
        Assert.Equal(ids.Length, run.CountLines("dropped a queue entry for job "));
        FaultTable.Record("B-duplicate-entry", "each of 30 job ids pushed onto its queue a second time (raw LPUSH) while the job was queued, running or done",
            "every job ran once; each extra entry was dropped by take.lua with one line naming the job and its state; the jobs' hashes untouched",
            "I1–I5 hold; no second run");
    }

    [Fact]
    public async Task B_unknown_type_goes_dead_no_route_at_once_and_is_not_retried()
    {
        await using var run = await FaultRun.StartAsync("B-no-route");
        await run.StartWorkerAsync();
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        var ids = await h.EnqueueAsync(WorkerHarness.Lines(3, "{\"type\":\"no_such_type\"}"));
        foreach (var id in ids) run.Adopt(id);
        await run.EnqueueAsync(10, _ => (0, 0));
        await run.DrainAsync(Drain);
        foreach (var id in ids)
        {
            Assert.Equal("dead", h.Field(id, "state"));
            Assert.Equal("1", h.Field(id, "attempt"));
            Assert.StartsWith("no_route: no handler for type no_such_type", h.Field(id, "last_error"));
        }
        using (var p = run.Probe()) Assert.Null(p.Call("HGET", "{jobd}:stats", "retried"));
        await run.CheckAsync();
        FaultTable.Record("B-no-route", "a type with no handler or route", "dead 'no_route: no handler for type …' at attempt 1, never retried; one line each", "I1–I5 hold");
    }

    [Fact]
    public async Task B_metrics_cardinality_random_types_share_the_unknown_label()
    {
        await using var run = await FaultRun.StartAsync("B-metrics-cardinality");
        int port = FreePort.Next();
        var w = await run.StartWorkerAsync(("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"), ("JOBD_LOG_JOBS", "0"));
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        var random = new Random(9);
        var lines = new StringBuilder();
        for (int i = 0; i < 500; i++) lines.Append("{\"type\":\"t").Append(random.Next()).Append('_').Append(i).Append("\"}\n");
        foreach (var id in await h.EnqueueAsync(lines.ToString())) run.Adopt(id);
        await run.EnqueueAsync(10, _ => (0, 0));
        await run.DrainAsync(Drain);
        using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var m = PrometheusText.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in m.Samples)
            if (s.Name.StartsWith("jobd_job", StringComparison.Ordinal) && s.Labels.TryGetValue("type", out var t)) types.Add(t);
        Assert.Equal(new HashSet<string> { "ledger", "unknown" }, types);
        Assert.Equal(500, m.Value("jobd_jobs_total", ("type", "unknown"), ("outcome", "dead")));
        await run.CheckAsync();
        FaultTable.Record("B-metrics-cardinality", "500 jobs of distinct random types beside ledger jobs, /metrics scraped",
            $"type labels: {string.Join(", ", types)} ({m.Samples.Count} samples in all); the 500 counted under type=\"unknown\"", "I1–I5 hold; series bounded");
    }

    [Fact]
    public async Task B_retry_storm_dead_list_capped_and_expiring()
    {
        await using var run = await FaultRun.StartAsync("B-retry-storm");
        await run.StartWorkerAsync(("JOBD_DEAD_MAX", "50"), ("JOBD_DEAD_TTL", "1h"), ("JOBD_LOG_JOBS", "0"));
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        var ids = await h.EnqueueAsync(WorkerHarness.Lines(3000, "{\"type\":\"fail\",\"args\":{\"retry_after_ms\":20},\"max_attempts\":2}"));
        using var p = run.Probe();
        await Eventually.ReachesAsync(() => Task.FromResult(long.Parse((string?)p.Call("HGET", "{jobd}:stats", "dead") ?? "0")), ids.Length, Drain);
        Assert.Equal(50L, (long)p.Call("ZCARD", "{jobd}:dead")!);
        var left = (object?[])p.Call("KEYS", "{jobd}:job:*")!;
        Assert.Equal(50, left.Length); // the trimmed ones were deleted with their entry
        foreach (var k in left)
        {
            long ttl = (long)p.Call("PTTL", (string)k!)!;
            Assert.InRange(ttl, 1, 3_600_000);
        }
        Assert.Equal(ids.Length.ToString(), (string?)p.Call("HGET", "{jobd}:stats", "retried"));
        FaultTable.Record("B-retry-storm", "3000 jobs failing twice each (max_attempts 2), JOBD_DEAD_MAX=50, JOBD_DEAD_TTL=1h",
            "3000 retries then 3000 dead; the dead set holds the newest 50, older hashes deleted with their entries, each kept one with a TTL ≤ 1 h", "dead list bounded; no exit");
    }
}
