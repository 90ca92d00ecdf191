using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// The log of the published binary, black-box: JSON lines for containers, syslog priorities under systemd (when
/// JOURNAL_STREAM names stderr), no line per job at info unless JOBD_LOG_JOBS=1, a job that fails for good at error
/// (so at every level), a retry at warn, nothing below the level.
/// </summary>
public sealed class LogFormatTests : WorkerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Runs three noop jobs then one that fails for good, and stops the worker: its whole stderr.</summary>
    private Task<(IReadOnlyList<string> Lines, string[] Noops, string Failed)> RunJobsAsync(params (string, string)[] env) =>
        RunJobsAsync(null, env);

    /// <param name="shellPrefix">Shell assignments to run jobd with, as `/bin/sh -c "PREFIX exec jobd run"`.</param>
    private async Task<(IReadOnlyList<string> Lines, string[] Noops, string Failed)> RunJobsAsync(string? shellPrefix, params (string, string)[] env)
    {
        var vars = new List<(string, string)> { ("REDIS_URL", Db.Url) };
        vars.AddRange(env);
        await using var worker = shellPrefix is null
            ? JobdBinary.Start(new[] { "run" }, JobdBinary.Env(vars.ToArray()))
            : ChildProcess.Start("/bin/sh", new[] { "-c", shellPrefix + " exec \"$0\" run", JobdBinary.Path }, JobdBinary.Env(vars.ToArray()));
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
        Assert.Equal("error", failureLevel);
        Assert.Contains(lines, l => l.Contains("no such customer", StringComparison.Ordinal));
    }

    /// <summary>
    /// systemd sets JOURNAL_STREAM to the device:inode of the stream it gave the service; the shell plays systemd,
    /// taking them from the stderr it hands on to jobd (coreutils' stat).
    /// </summary>
    [Fact]
    public async Task Under_systemd_every_line_carries_a_syslog_priority()
    {
        var (lines, noops, failed) = await RunJobsAsync("JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2)");
        foreach (var line in lines)
        {
            Assert.Matches("^<[3467]>[^<]", line);
            foreach (var id in noops) Assert.DoesNotContain(id, line);
        }
        Assert.StartsWith("<3>", Assert.Single(lines, l => l.Contains(failed, StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("<6>", StringComparison.Ordinal) && l.Contains("ready: queues", StringComparison.Ordinal));
    }

    /// <summary>A JOURNAL_STREAM inherited from a unit but naming another stream (stderr redirected) means text.</summary>
    [Fact]
    public async Task A_journal_stream_that_is_not_stderr_gets_text()
    {
        var (lines, _, failed) = await RunJobsAsync(("JOURNAL_STREAM", "8:123456"));
        foreach (var line in lines) Assert.Matches(@"^\d{4}-\d\d-\d\dT\S+Z (debug|info |warn |error) ", line);
        Assert.Single(lines, l => l.Contains(failed, StringComparison.Ordinal) && l.Contains(" error job ", StringComparison.Ordinal));
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

    /// <summary>At error only errors are written: a job that fails for good still is, a retry is a warning and is not.</summary>
    [Fact]
    public async Task At_level_error_a_job_that_fails_for_good_is_logged_and_a_retry_is_not()
    {
        var vars = new[] { ("REDIS_URL", Db.Url), ("JOBD_LOG_LEVEL", "error"), ("JOBD_LOG_JOBS", "1") };
        await using var worker = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(vars));
        var retried = (await H.EnqueueAsync("{\"type\":\"fail\",\"max_attempts\":2,\"args\":{\"retry_after_ms\":50,\"message\":\"try later\"}}\n"))[0];
        var dead = (await H.EnqueueAsync("{\"type\":\"fail\",\"args\":{\"permanent\":true,\"message\":\"no such customer\"}}\n"))[0];
        await WorkerHarness.LogLineAsync(worker, $"job {dead} failed for good: no such customer", Wait);
        await WorkerHarness.LogLineAsync(worker, $"job {retried} failed for good: attempts exhausted (2): try later", Wait);
        worker.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var lines = worker.Stderr.Snapshot();
        foreach (var line in lines) Assert.Matches(@"^\S+ error ", line);
        Assert.DoesNotContain(lines, l => l.Contains("will retry", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count);
    }

    /// <summary>At debug without JOBD_LOG_JOBS each job has a "started" and a "done" line, both at debug.</summary>
    [Fact]
    public async Task At_level_debug_each_job_has_a_start_and_a_done_line_at_debug()
    {
        var (lines, noops, _) = await RunJobsAsync(("JOBD_LOG_LEVEL", "debug"));
        foreach (var id in noops)
        {
            Assert.Single(lines, l => l.Contains($" debug job {id} noop started", StringComparison.Ordinal));
            Assert.Single(lines, l => l.Contains($" debug job {id} noop done", StringComparison.Ordinal));
        }
    }
}
