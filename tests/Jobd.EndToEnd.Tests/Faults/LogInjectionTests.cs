using System;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md "Log injection": text from jobs (a handler's error message, a raw job id, a type) carrying CR, LF,
/// a syslog priority and a terminal escape, logged by the real binary in each of its three formats. No value may start
/// a line of its own, forge a priority or reach the terminal raw.
/// </summary>
public sealed class LogInjectionTests
{
    private const string Forged = "x\n<0>forged emergency\r\u001b[31mred";

    [Theory]
    [InlineData("text")]
    [InlineData("journal")]
    [InlineData("json")]
    public async Task B_log_injection_is_escaped_in_every_format(string format)
    {
        await using var run = await FaultRun.StartAsync("B-log-injection-" + format);
        var env = format switch
        {
            "json" => new[] { ("JOBD_LOG_FORMAT", "json") },
            "journal" => new[] { ("JOBD_LOG_FORMAT", "journal") },
            _ => Array.Empty<(string, string)>(),
        };
        // Started here: the other formats do not put " ready: queues" after a timestamp, as StartWorkerAsync waits for.
        var w = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(run.WorkerEnv(env)));
        run.Track(w);
        await w.Stderr.WaitAsync(l => l.Contains("ready: queues", StringComparison.Ordinal), WorkerHarness.Startup, "the worker to be ready");
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        var failed = (await h.EnqueueAsync("{\"type\":\"fail\",\"args\":{\"permanent\":true,\"message\":" + JsonSerializer.Serialize(Forged) + "}}\n"))[0];
        run.Adopt(failed);
        using (var p = run.Probe()) RawJob.Write(p, "id\n<0>forged", RawJob.Fields());
        run.Adopt("id\n<0>forged");
        await using (var enqueue = JobdBinary.Start(new[] { "enqueue", "x\n<0>forged" }, JobdBinary.Env(("REDIS_URL", run.RedisUrl))))
        {
            Assert.Equal(65, await enqueue.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.DoesNotContain("forged", Assert.Single(enqueue.Stderr.Snapshot()));
        }
        await run.EnqueueAsync(5, _ => (0, 0));
        await run.DrainAsync(TimeSpan.FromSeconds(60));
        await run.CheckAsync(); // stops the worker: every line it wrote has been read

        var shape = format switch
        {
            "journal" => new Regex(@"^<[3467]>[^<]"),
            "text" => new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info |warn |error) "),
            _ => null,
        };
        int escaped = 0;
        foreach (var line in w.Stderr.Snapshot())
        {
            foreach (char c in line) Assert.False(char.IsControl(c), $"a raw control character in: {line}");
            Assert.False(line.StartsWith("<0>", StringComparison.Ordinal) || line.StartsWith("forged", StringComparison.Ordinal), "a forged line: " + line);
            if (shape is not null)
            {
                Assert.Matches(shape, line);
                if (line.Contains(@"x\n<0>forged emergency\r\u001b[31mred", StringComparison.Ordinal) || line.Contains(@"job id\n<0>forged is dead", StringComparison.Ordinal)) escaped++;
                continue;
            }
            using var doc = JsonDocument.Parse(line);
            var msg = doc.RootElement.GetProperty("msg").GetString()!;
            Assert.True(doc.RootElement.TryGetProperty("level", out _));
            if (msg.Contains(Forged, StringComparison.Ordinal) || msg.Contains("job id\n<0>forged is dead", StringComparison.Ordinal)) escaped++;
        }
        Assert.Equal(2, escaped);
        Assert.Empty(w.Stdout.Snapshot());
        FaultTable.Record("B-log-injection-" + format, $"a handler error \"x\\n<0>forged emergency\\r\\e[31mred\", a raw job id with \\n<0>, a type with \\n<0> given to jobd enqueue; {format} log format",
            format == "json"
                ? "each line one JSON object; the values arrive intact inside \"msg\" (JSON escapes), no raw control character"
                : $"control characters escaped as \\n \\r \\u001b inside the one line; every line starts with {(format == "journal" ? "a real priority <3>/<4>/<6>/<7>" : "its timestamp and level")}; the type was refused at enqueue without being echoed",
            "no forged line or priority");
    }
}
