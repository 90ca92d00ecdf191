using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// The log of the published binary, black-box: JSON lines for containers, syslog priorities under systemd, no line
/// per job at info unless JOBD_LOG_JOBS=1, failures always, nothing below the level.
/// </summary>
public sealed class LogFormatTests : WorkerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Runs three noop jobs then one that fails for good, and stops the worker: its whole stderr.</summary>
    private async Task<(IReadOnlyList<string> Lines, string[] Noops, string Failed)> RunJobsAsync(params (string, string)[] env)
    {
        var vars = new List<(string, string)> { ("REDIS_URL", Db.Url) };
        vars.AddRange(env);
        await using var worker = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(vars.ToArray()));
        var noops = await H.EnqueueAsync(WorkerHarness.Lines(3, "{\"type\":\"noop\"}"));
        var failed = (await H.EnqueueAsync("{\"type\":\"fail\",\"args\":{\"permanent\":true,\"message\":\"no such customer\"}}\n"))[0];
        // FIFO: when the failure is logged, the noops before it have run.
        await WorkerHarness.LogLineAsync(worker, failed, Wait);
        worker.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        foreach (var id in noops) Assert.Equal("done", H.Field(id, "state"));
        return (worker.Stderr.Snapshot(), noops, failed);
    }

    [Fact]
    public async Task Json_lines_are_one_object_each_and_jobs_are_not_logged_at_info()
    {
        var (lines, noops, failed) = await RunJobsAsync(("JOBD_LOG_FORMAT", "json"));
        Assert.True(lines.Count >= 4, string.Join("\n", lines));
        string? failureLevel = null;
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.True(DateTimeOffset.TryParse(doc.RootElement.GetProperty("time").GetString(), out _), line);
            var level = doc.RootElement.GetProperty("level").GetString();
            Assert.Contains(level, new[] { "debug", "info", "warn", "error" });
            var msg = doc.RootElement.GetProperty("msg").GetString()!;
            foreach (var id in noops) Assert.DoesNotContain(id, msg);
            if (msg.Contains(failed, StringComparison.Ordinal)) failureLevel = level;
        }
        Assert.Equal("warn", failureLevel);
        Assert.Contains(lines, l => l.Contains("no such customer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Under_systemd_every_line_carries_a_syslog_priority()
    {
        var (lines, noops, failed) = await RunJobsAsync(("JOURNAL_STREAM", "8:123456"));
        foreach (var line in lines)
        {
            Assert.Matches("^<[3467]>[^<]", line);
            foreach (var id in noops) Assert.DoesNotContain(id, line);
        }
        Assert.StartsWith("<4>", Assert.Single(lines, l => l.Contains(failed, StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("<6>", StringComparison.Ordinal) && l.Contains("ready: queues", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Log_jobs_adds_a_start_and_a_done_line_per_job()
    {
        var (lines, noops, _) = await RunJobsAsync(("JOBD_LOG_JOBS", "1"));
        foreach (var id in noops)
        {
            Assert.Single(lines, l => l.Contains($" info  job {id} noop started", StringComparison.Ordinal));
            Assert.Single(lines, l => l.Contains($" info  job {id} noop done", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task At_level_warn_only_warnings_and_errors_are_written_and_failures_still_are()
    {
        var (lines, _, failed) = await RunJobsAsync(("JOBD_LOG_LEVEL", "warn"), ("JOBD_LOG_JOBS", "1"));
        Assert.NotEmpty(lines);
        foreach (var line in lines) Assert.Matches(@"^\S+ (warn |error) ", line);
        Assert.Single(lines, l => l.Contains(failed, StringComparison.Ordinal) && l.Contains("failed for good: no such customer", StringComparison.Ordinal));
    }
}
