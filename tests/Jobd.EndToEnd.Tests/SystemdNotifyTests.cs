using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// sd_notify as systemd sees it, over a real datagram socket: the order of READY, STATUS, WATCHDOG and STOPPING;
/// STATUS naming a long job; EXTEND_TIMEOUT_USEC when a stop waits for a job; the watchdog fed through a long job.
/// jobd is started the way systemd starts it: WATCHDOG_PID is the service's own pid, set by a shell that then
/// execs jobd (same pid).
/// </summary>
public sealed class SystemdNotifyTests : WorkerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private ChildProcess StartUnderSystemd(NotifySocketListener notify, params (string, string)[] env)
    {
        var vars = new List<(string, string)> { ("REDIS_URL", Db.Url), ("NOTIFY_SOCKET", notify.SocketPath), ("JOBD_LOG_JOBS", "1") };
        vars.AddRange(env);
        return ChildProcess.Start("/bin/sh", new[] { "-c", "WATCHDOG_PID=$$ exec \"$0\" run", JobdBinary.Path }, JobdBinary.Env(vars.ToArray()));
    }

    private static int FirstIndex(IReadOnlyList<string> lines, Func<string, bool> match, int from = 0)
    {
        for (int i = from; i < lines.Count; i++)
            if (match(lines[i])) return i;
        return -1;
    }

    [Fact]
    public async Task Ready_status_watchdog_and_stopping_arrive_in_order()
    {
        await using var notify = new NotifySocketListener();
        await using var jobd = StartUnderSystemd(notify, ("WATCHDOG_USEC", "1000000"));
        await notify.Lines.WaitAsync(l => l == "READY=1", Wait, "READY=1");
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 0 jobs done", Wait, "the idle status");
        await notify.Lines.WaitAsync(l => l == "WATCHDOG=1", Wait, "a watchdog ping");
        jobd.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await jobd.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        await notify.Lines.WaitAsync(l => l == "STOPPING=1", Wait, "STOPPING=1");

        var lines = notify.Lines.Snapshot();
        int ready = FirstIndex(lines, l => l == "READY=1");
        Assert.True(FirstIndex(lines, l => l.StartsWith("STATUS=waiting for redis", StringComparison.Ordinal)) < ready, string.Join(", ", lines));
        Assert.True(FirstIndex(lines, l => l.StartsWith("STATUS=idle", StringComparison.Ordinal)) > ready, string.Join(", ", lines));
        int watchdog = FirstIndex(lines, l => l == "WATCHDOG=1");
        Assert.True(watchdog > ready, string.Join(", ", lines));
        Assert.True(FirstIndex(lines, l => l == "STOPPING=1") > watchdog, string.Join(", ", lines));
        Assert.Single(lines, l => l == "READY=1");
        Assert.DoesNotContain(lines, l => l.StartsWith("EXTEND_TIMEOUT_USEC=", StringComparison.Ordinal));
        // The feeder's first look precedes the loop's first step: that is not a stuck loop.
        Assert.DoesNotContain(jobd.Stderr.Snapshot(), l => l.Contains("past its deadline", StringComparison.Ordinal));
    }

    /// <summary>systemd passes an abstract socket as "@name" (a service in its own mount namespace cannot reach a path).</summary>
    [Fact]
    public async Task An_abstract_notify_socket_gets_ready_watchdog_and_stopping()
    {
        await using var notify = new NotifySocketListener(abstractName: true);
        Assert.StartsWith("@", notify.SocketPath);
        await using var jobd = StartUnderSystemd(notify, ("WATCHDOG_USEC", "1000000"));
        await notify.Lines.WaitAsync(l => l == "READY=1", Wait, "READY=1");
        await notify.Lines.WaitAsync(l => l == "WATCHDOG=1", Wait, "a watchdog ping");
        jobd.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await jobd.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        await notify.Lines.WaitAsync(l => l == "STOPPING=1", Wait, "STOPPING=1");
    }

    /// <summary>READY=1 comes after the scripts are loaded: a user who may not load them never gets as far as READY.</summary>
    [Fact]
    public async Task A_user_who_may_not_load_scripts_is_refused_before_ready()
    {
        await using var redis = await RedisServer.StartAsync();
        using (var admin = redis.Probe())
            admin.Call("ACL", "SETUSER", "noscripts", "on", ">s3cret-pw", "~*", "&*", "+@all", "-script");
        await using var notify = new NotifySocketListener();
        await using var jobd = JobdBinary.Start(new[] { "run" },
            JobdBinary.Env(("REDIS_URL", $"redis://noscripts:s3cret-pw@127.0.0.1:{redis.Port}/0"), ("NOTIFY_SOCKET", notify.SocketPath)));
        Assert.Equal(78, await jobd.WaitForExitAsync(Wait));
        Assert.DoesNotContain("READY=1", notify.Lines.Snapshot());
        var line = Assert.Single(jobd.Stderr.Snapshot(), l => l.Contains(" error ", StringComparison.Ordinal));
        Assert.Contains("redis refused to load jobd's scripts: NOPERM", line);
        Assert.DoesNotContain("s3cret-pw", string.Join("\n", jobd.Stderr.Snapshot()));
    }

    [Fact]
    public async Task Status_names_a_job_that_runs_for_more_than_a_second_then_returns_to_idle()
    {
        await using var notify = new NotifySocketListener();
        await using var jobd = StartUnderSystemd(notify);
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 0 jobs done", Wait, "the idle status");
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":3000}}\n"))[0];
        await notify.Lines.WaitAsync(l => l == "STATUS=running sleep " + id[..8], Wait, "the running status");
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 1 jobs done", Wait, "idle again");
        Assert.Single(notify.Lines.Snapshot(), l => l.StartsWith("STATUS=running", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Short_jobs_are_not_named_one_by_one()
    {
        await using var notify = new NotifySocketListener();
        await using var jobd = StartUnderSystemd(notify);
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 0 jobs done", Wait, "the idle status");
        var ids = await H.EnqueueAsync(WorkerHarness.Lines(200, "{\"type\":\"noop\"}"));
        await WorkerHarness.LogLineAsync(jobd, $"job {ids[^1]} noop done", Wait);
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 200 jobs done", Wait, "idle after the batch");
        Assert.DoesNotContain(notify.Lines.Snapshot(), l => l.StartsWith("STATUS=running", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stop_while_a_job_runs_extends_the_stop_timeout_by_the_grace_period()
    {
        await using var notify = new NotifySocketListener();
        await using var jobd = StartUnderSystemd(notify, ("JOBD_SHUTDOWN_TIMEOUT", "10s"));
        await notify.Lines.WaitAsync(l => l == "READY=1", Wait, "READY=1");
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":2000}}\n"))[0];
        await WorkerHarness.LogLineAsync(jobd, $"job {id} sleep started", Wait);
        jobd.Signal(ChildProcess.SIGTERM);
        // Grace 10 s + settle margin 1 s + stop margin 3 s.
        await notify.Lines.WaitAsync(l => l == "EXTEND_TIMEOUT_USEC=14000000", Wait, "EXTEND_TIMEOUT_USEC");
        await WorkerHarness.LogLineAsync(jobd, $"job {id} sleep done", Wait);
        Assert.Equal(0, await jobd.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var lines = notify.Lines.Snapshot();
        Assert.True(FirstIndex(lines, l => l == "STOPPING=1") < FirstIndex(lines, l => l.StartsWith("EXTEND_TIMEOUT_USEC=", StringComparison.Ordinal)), string.Join(", ", lines));
        Assert.Equal("done", H.Field(id, "state"));
    }

    /// <summary>
    /// A job within its timeout is not a stuck loop: the loop announced the job's deadline as its bound, so the
    /// watchdog keeps being fed though the job runs several times longer than WATCHDOG_USEC. (A loop stuck past
    /// its bound is tested in-process, Jobd.Tests WatchdogStuckLoopTests: every built-in handler honours
    /// cancellation, so the published binary cannot be wedged from outside.)
    /// </summary>
    [Fact]
    public async Task The_watchdog_is_fed_through_a_job_longer_than_watchdog_usec_but_within_its_timeout()
    {
        await using var notify = new NotifySocketListener();
        await using var jobd = StartUnderSystemd(notify, ("WATCHDOG_USEC", "1000000"));
        await notify.Lines.WaitAsync(l => l == "WATCHDOG=1", Wait, "a watchdog ping");
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":4000},\"timeout\":\"60s\"}\n"))[0];
        await WorkerHarness.LogLineAsync(jobd, $"job {id} sleep started", Wait);
        int before = Pings(notify);
        await WorkerHarness.LogLineAsync(jobd, $"job {id} sleep done", Wait);
        int during = Pings(notify) - before;
        // One ping per 500 ms: about 8 over 4 s; at least 3 however loaded the machine.
        Assert.True(during >= 3, $"{during} pings during a 4 s job with WATCHDOG_USEC=1s");
        Assert.DoesNotContain(jobd.Stderr.Snapshot(), l => l.Contains("past its deadline", StringComparison.Ordinal));
    }

    /// <summary>
    /// Redis down for longer than the loop's command bound (5 s) is a dependency outage, not a stuck loop: the
    /// watchdog goes on, or systemd would kill and restart jobd for Redis' sake.
    /// </summary>
    [Fact]
    public async Task The_watchdog_is_fed_through_a_redis_outage()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var notify = new NotifySocketListener();
        var vars = new List<(string, string)> { ("REDIS_URL", redis.Url()), ("NOTIFY_SOCKET", notify.SocketPath), ("WATCHDOG_USEC", "1000000") };
        await using var jobd = ChildProcess.Start("/bin/sh", new[] { "-c", "WATCHDOG_PID=$$ exec \"$0\" run", JobdBinary.Path }, JobdBinary.Env(vars.ToArray()));
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 0 jobs done", Wait, "the idle status");
        await redis.KillAsync();
        await jobd.Stderr.WaitAsync(l => l.Contains("redis down", StringComparison.Ordinal), Wait, "redis down");
        // Past the 5 s bound plus a ping interval of slack: the outage itself is what is tested.
        await Task.Delay(TimeSpan.FromSeconds(7));
        int late = Pings(notify);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(Pings(notify) - late >= 2, $"{Pings(notify) - late} pings in the 8th and 9th second of the outage, WATCHDOG_USEC=1s");
        Assert.DoesNotContain(jobd.Stderr.Snapshot(), l => l.Contains("past its deadline", StringComparison.Ordinal));
        await redis.RestartAsync();
        await jobd.Stderr.WaitAsync(l => l.Contains("redis up", StringComparison.Ordinal) && RedisUps(jobd) == 2, Wait, "redis up again");
    }

    [Fact]
    public async Task A_watchdog_meant_for_another_pid_is_not_fed()
    {
        await using var notify = new NotifySocketListener();
        await using var jobd = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("NOTIFY_SOCKET", notify.SocketPath),
            ("WATCHDOG_USEC", "200000"), ("WATCHDOG_PID", "1")));
        await notify.Lines.WaitAsync(l => l == "STATUS=idle, 0 jobs done", Wait, "the idle status");
        jobd.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await jobd.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        Assert.DoesNotContain("WATCHDOG=1", notify.Lines.Snapshot());
    }

    private static int RedisUps(ChildProcess jobd)
    {
        int n = 0;
        foreach (var l in jobd.Stderr.Snapshot()) if (l.Contains("redis up", StringComparison.Ordinal)) n++;
        return n;
    }

    private static int Pings(NotifySocketListener notify)
    {
        int n = 0;
        foreach (var l in notify.Lines.Snapshot()) if (l == "WATCHDOG=1") n++;
        return n;
    }
}
