using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md "Bad input", producer and configuration side: what `jobd enqueue` and the published enqueue
/// script refuse (one line, nothing written), uniqueness-key abuse, and configuration mistakes (exit 78, one line,
/// checked by the ledger checker's I4).
/// </summary>
public sealed class BadEnqueueTests
{
    private static async Task<(int Code, IReadOnlyList<string> Out, IReadOnlyList<string> Err)> JobdAsync(string redisUrl, string[] args,
        byte[]? stdin = null, params (string, string)[] env)
    {
        var vars = new List<(string, string)> { ("REDIS_URL", redisUrl) };
        vars.AddRange(env);
        await using var p = JobdBinary.Start(args, JobdBinary.Env(vars.ToArray()));
        if (stdin is not null)
        {
            try { await p.Stdin.BaseStream.WriteAsync(stdin); }
            catch (IOException) { } // it stopped reading
        }
        try { p.Stdin.Close(); }
        catch (IOException) { }
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, p.Stdout.Snapshot(), p.Stderr.Snapshot());
    }

    private static long JobKeys(FaultRun run)
    {
        using var p = run.Probe();
        return ((object?[])p.Call("KEYS", "{jobd}:*")!).Length;
    }

    [Fact]
    public async Task B_hostile_json_through_jobd_enqueue_is_refused_in_one_line()
    {
        await using var run = await FaultRun.StartAsync("B-hostile-json-enqueue");
        var keys = new StringBuilder("{");
        for (int i = 0; i < 100_000; i++) keys.Append(i == 0 ? "" : ",").Append("\"k").Append(i).Append("\":0");
        var invalidUtf8 = RawJob.Utf8("{\"a\":\"xx\"}");
        invalidUtf8[6] = 0xFF;
        var refused = new List<(string What, byte[] Args, string Expected)>
        {
            ("depth 1000", RawJob.Utf8("{\"a\":" + new string('[', 1000) + new string(']', 1000) + "}"), "nested deeper than 64 levels"),
            ("100k keys, 1.1 MB", RawJob.Utf8(keys + "}"), "more than the limit of 1048576 bytes (JOBD_MAX_JOB_BYTES)"),
            ("duplicate keys", RawJob.Utf8("{\"a\":1,\"a\":2}"), "duplicate key at byte 8"),
            ("duplicate keys, escaped", RawJob.Utf8("{\"a\":1,\"\\u0061\":2}"), "duplicate key"),
            ("invalid UTF-8", invalidUtf8, "stdin is not valid UTF-8"),
            ("lone surrogate", RawJob.Utf8("{\"a\":\"\\ud800\"}"), "lone surrogate"),
            ("BOM", new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}' }, "byte order mark"),
            ("comment", RawJob.Utf8("{/* c */\"a\":1}"), "not valid JSON"),
            ("trailing comma", RawJob.Utf8("{\"a\":1,}"), "not valid JSON"),
            ("trailing garbage", RawJob.Utf8("{\"a\":1} x"), "not valid JSON"),
        };
        var shown = new List<string>();
        foreach (var (what, args, expected) in refused)
        {
            var (code, stdout, stderr) = await JobdAsync(run.RedisUrl, new[] { "enqueue", "noop", "-" }, args);
            Assert.True(code == 65, $"{what}: exit {code}, stderr: {string.Join(" | ", stderr)}");
            Assert.Empty(stdout);
            var line = Assert.Single(stderr);
            Assert.StartsWith("jobd: enqueue refused: args: ", line);
            Assert.Contains(expected, line);
            shown.Add(what + ": " + line["jobd: enqueue refused: args: ".Length..]);
        }
        // The same on the command line (argv) and in a batch line.
        var argv = await JobdAsync(run.RedisUrl, new[] { "enqueue", "noop", "{\"a\":1,\"a\":2}" });
        Assert.Equal(65, argv.Code);
        Assert.Contains("duplicate key", Assert.Single(argv.Err));
        var batchLine = new List<byte>(RawJob.Utf8("{\"type\":\"noop\",\"args\":{\"a\":\""));
        batchLine.Add(0xFF);
        batchLine.AddRange(RawJob.Utf8("\"}}\n"));
        var batch = await JobdAsync(run.RedisUrl, new[] { "enqueue", "--batch" }, batchLine.ToArray());
        Assert.Equal(65, batch.Code);
        Assert.Contains("line 1: json: the line is not valid UTF-8", Assert.Single(batch.Err));
        var dupType = await JobdAsync(run.RedisUrl, new[] { "enqueue", "--batch" }, RawJob.Utf8("{\"type\":\"noop\",\"type\":\"fail\"}\n"));
        Assert.Equal(65, dupType.Code);
        Assert.Contains("duplicate key", Assert.Single(dupType.Err));
        Assert.Equal(0, JobKeys(run));

        // Valid JSON passes: \u0000 (stored as sent; the result sink escapes it for jsonb), 100k keys under a limit that fits them.
        var nul = await JobdAsync(run.RedisUrl, new[] { "enqueue", "noop", "{\"a\":\"\\u0000\"}" });
        Assert.Equal(0, nul.Code);
        var big = await JobdAsync(run.RedisUrl, new[] { "enqueue", "noop", "-" }, RawJob.Utf8(keys + "}"), ("JOBD_MAX_JOB_BYTES", "4MB"));
        Assert.Equal(0, big.Code);
        FaultTable.Record("B-hostile-json-enqueue", "the hostile JSON list through jobd enqueue (stdin, argv, --batch)",
            "refused before Redis, exit 65, one line naming the problem: " + string.Join("; ", shown) + ". \\u0000 and 100k keys within JOBD_MAX_JOB_BYTES are valid and accepted",
            "nothing written");
    }

    [Fact]
    public async Task B_unsafe_names_are_refused_by_the_cli_and_by_the_enqueue_script()
    {
        await using var run = await FaultRun.StartAsync("B-unsafe-names");
        var names = new[] { "a\r\nb", "a{b", "a}b", "a*", "a b", new string('q', 10_000) };
        foreach (var name in names)
        {
            var q = await JobdAsync(run.RedisUrl, new[] { "enqueue", "noop", "--queue", name });
            Assert.Equal(65, q.Code);
            Assert.Equal("jobd: enqueue refused: queue: a queue name is 1-64 of A-Z a-z 0-9 _ -", Assert.Single(q.Err));
            var t = await JobdAsync(run.RedisUrl, new[] { "enqueue", name });
            Assert.Equal(65, t.Code);
            Assert.Equal("jobd: enqueue refused: type: a job type is 1-128 of A-Z a-z 0-9 _ . : -", Assert.Single(t.Err));
        }
        // A producer in another language calling the published script (PROTOCOL.md) meets the same rules.
        var script = File.ReadAllText(RepoPaths.File("src", "Jobd.Queue", "Scripts", "enqueue.lua"));
        using (var p = run.Probe())
            foreach (var name in names)
            {
                var e = Assert.Throws<InvalidOperationException>(() => p.Call("EVAL", script, "6", "{jobd}:job:x1", "{jobd}:q:" + name,
                    "{jobd}:scheduled", "{jobd}:unique:", "{jobd}:wake", "{jobd}:queues", "x1", "noop", name, "{}", "", "", "", "", ""));
                Assert.Contains("ERR jobd: queue must be 1-64 of A-Z a-z 0-9 _ -", e.Message);
            }
        Assert.Equal(0, JobKeys(run));
        FaultTable.Record("B-unsafe-names", "queue and type names with CR LF, {, }, *, a space, 10 KB; by jobd enqueue and by EVAL of enqueue.lua",
            "refused: exit 65 with one line naming the field and the rule; the script answers 'ERR jobd: queue must be …'; no key written", "nothing written");
    }

    [Fact]
    public async Task B_unique_key_abuse_keeps_one_pending_job_and_says_duplicate_each_time()
    {
        await using var run = await FaultRun.StartAsync("B-unique-abuse");
        var line = "{\"type\":\"noop\",\"unique\":\"report:42\"}\n";
        var (code, stdout, stderr) = await JobdAsync(run.RedisUrl, new[] { "enqueue", "--batch" }, RawJob.Utf8(WorkerHarness.Lines(2000, line.TrimEnd())));
        Assert.Equal(0, code);
        Assert.Equal(2000, stdout.Count);
        Assert.All(stdout, id => Assert.Equal(stdout[0], id));
        Assert.Equal(1999, stderr.Count);
        Assert.All(stderr, l => Assert.Contains($"duplicate: job {stdout[0]} holds unique key \"report:42\"; nothing enqueued", l));
        using var p = run.Probe();
        Assert.Single((object?[])p.Call("KEYS", "{jobd}:job:*")!);
        Assert.Equal(1L, (long)p.Call("LLEN", "{jobd}:q:default")!);
        long ttl = (long)p.Call("PTTL", "{jobd}:unique:report:42")!;
        Assert.InRange(ttl, 1, (long)TimeSpan.FromHours(24).TotalMilliseconds);
        FaultTable.Record("B-unique-abuse", "the same uniqueness key enqueued 2000 times (one batch)",
            $"one job created; the other 1999 printed its id and one 'duplicate' line each; key TTL {ttl / 3_600_000.0:0.0} h (bounded by the unique TTL, 24 h)", "one pending job");
    }

    [Fact]
    public async Task B_config_rows_decode_the_url_or_exit_78_with_one_line()
    {
        const string pass = "p@ss-canary-31d";
        await using var run = await FaultRun.StartAsync("B-config");
        run.Secrets.Add(pass);
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "u", "on", ">" + pass, "~*", "+@all");
        string url = $"redis://u:{Uri.EscapeDataString(pass)}@{run.Redis.Host}:{run.Redis.Port}/99";
        var secrets = new[] { pass, Uri.EscapeDataString(pass), FaultRun.Canary };

        // %40 decoded: the worker authenticates as u with "p@ss…" and serves database 99; the password is never shown.
        var config = await JobdAsync(url, new[] { "config" });
        Assert.Equal(0, config.Code);
        Assert.Contains($"REDIS_URL=redis://u:***@{run.Redis.Host}:{run.Redis.Port}/99", config.Out);
        var w = await run.StartWorkerAsync(("REDIS_URL", url));
        var db99 = new WorkerHarness(url, () => new RedisProbe(run.Redis.Host, run.Redis.Port, 99, pass, "u"));
        var id = (await db99.EnqueueAsync("{\"type\":\"noop\"}\n"))[0];
        await WorkerHarness.LogLineAsync(w, $"job {id} noop done", TimeSpan.FromSeconds(30));
        Assert.Equal("done", db99.Field(id, "state"));

        var checker = new LedgerChecker("B-config", 0);
        var rows = new List<string>();
        foreach (var (what, env, names) in new[]
                 {
                     ("ftp route", ("JOBD_ROUTE_x", "ftp://files.example/x"), "JOBD_ROUTE_x"),
                     ("duplicate queues", ("JOBD_QUEUES", "a,b,a"), "JOBD_QUEUES"),
                     ("bad prefix", ("JOBD_PREFIX", "a{b}"), "JOBD_PREFIX"),
                     ("unknown variable", ("JOBD_QUEUS", "a"), "JOBD_QUEUS"),
                 })
        {
            foreach (var verb in new[] { "run", "config" })
            {
                var r = await JobdAsync(url, new[] { verb }, null, env);
                checker.CheckConfigError($"{what} ({verb})", r.Code, r.Err, r.Out, names, secrets);
                if (verb == "run") rows.Add($"{what}: '{(r.Err.Count > 0 ? r.Err[^1] : "")}'");
            }
        }
        // The URL itself: a password with a broken percent-escape is refused, and the error must not echo it.
        var broken = await JobdAsync($"redis://u:p%ZZ{pass}@127.0.0.1:1/0", new[] { "run" });
        checker.CheckConfigError("unencoded password", broken.Code, broken.Err, broken.Out, "REDIS_URL", secrets);
        checker.Throw();
        await run.CheckAsync();
        FaultTable.Record("B-config", "REDIS_URL=redis://u:p%40ss…@h:p/99; JOBD_ROUTE_x=ftp:…; JOBD_QUEUES=a,b,a; JOBD_PREFIX=a{b}; an unknown JOBD_ variable; a broken %-escape in the password",
            "the URL is decoded (ACL user u, password with @, database 99: jobs ran) and shown as redis://u:***@…; each mistake: exit 78 from run and config, one line naming the variable, no secret: " + string.Join("; ", rows),
            "I4 (exit 78, one line, no secret)");
    }
}
