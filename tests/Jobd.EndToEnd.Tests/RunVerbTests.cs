using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>`jobd run` as systemd or a container starts it: READY once Redis answers, a clean exit on SIGTERM.</summary>
public sealed class RunVerbTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(ChildProcess.SIGTERM)]
    [InlineData(ChildProcess.SIGINT)]
    public async Task Run_reports_ready_and_exits_0_within_a_second_of_the_signal(int signal)
    {
        using var db = await TestRedis.LeaseAsync();
        await using var notify = new NotifySocketListener();
        await using var jobd = JobdBinary.Start(new[] { "run" },
            JobdBinary.Env(("REDIS_URL", db.Url), ("NOTIFY_SOCKET", notify.SocketPath)));

        await notify.Lines.WaitAsync(l => l == "READY=1", Startup, "READY=1 from jobd");
        await jobd.Stderr.WaitAsync(l => l.Contains(" ready", StringComparison.Ordinal), Startup, "the ready log line");

        jobd.Signal(signal);
        int code = await jobd.WaitForExitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(0, code);
        await notify.Lines.WaitAsync(l => l == "STOPPING=1", TimeSpan.FromSeconds(1), "STOPPING=1 from jobd");
        var lines = notify.Lines.Snapshot();
        Assert.True(IndexOf(lines, "READY=1") < IndexOf(lines, "STOPPING=1"), string.Join(", ", lines));
    }

    [Fact]
    public async Task Run_waits_for_redis_that_is_not_up_yet_then_becomes_ready()
    {
        int port = FreePort.Next();
        await using var notify = new NotifySocketListener();
        await using var jobd = JobdBinary.Start(new[] { "run" },
            JobdBinary.Env(("REDIS_URL", $"redis://127.0.0.1:{port}/0"), ("NOTIFY_SOCKET", notify.SocketPath)));

        await notify.Lines.WaitAsync(l => l.StartsWith("STATUS=waiting for redis", StringComparison.Ordinal), Startup, "the waiting status");
        await jobd.Stderr.WaitAsync(l => l.Contains("redis down", StringComparison.Ordinal), Startup, "one 'redis down' line");
        Assert.False(jobd.HasExited);

        await using var redis = await RedisServer.StartOnPortAsync(port);
        await notify.Lines.WaitAsync(l => l == "READY=1", Startup, "READY=1 once redis is up");
        Assert.Single(jobd.Stderr.Snapshot(), l => l.Contains("redis down", StringComparison.Ordinal));

        jobd.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await jobd.WaitForExitAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Sigterm_while_waiting_for_redis_still_exits_cleanly()
    {
        int port = FreePort.Next();
        await using var notify = new NotifySocketListener();
        await using var jobd = JobdBinary.Start(new[] { "run" },
            JobdBinary.Env(("REDIS_URL", $"redis://127.0.0.1:{port}/0"), ("NOTIFY_SOCKET", notify.SocketPath)));
        await notify.Lines.WaitAsync(l => l.StartsWith("STATUS=waiting for redis", StringComparison.Ordinal), Startup, "the waiting status");

        jobd.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await jobd.WaitForExitAsync(TimeSpan.FromSeconds(1)));
        Assert.DoesNotContain("READY=1", notify.Lines.Snapshot());
    }

    [Fact]
    public async Task An_evicting_redis_is_warned_about_at_start()
    {
        await using var redis = await RedisServer.StartAsync("--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru");
        await using var jobd = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", redis.Url())));
        var line = await jobd.Stderr.WaitAsync(l => l.Contains("maxmemory-policy", StringComparison.Ordinal), Startup, "the eviction warning");
        Assert.Contains("redis maxmemory-policy is allkeys-lru: under memory pressure Redis may delete queued jobs; set it to noeviction", line);
        Assert.Contains(" warn ", line);
    }

    private static int IndexOf(System.Collections.Generic.IReadOnlyList<string> lines, string value)
    {
        for (int i = 0; i < lines.Count; i++)
            if (lines[i] == value) return i;
        return -1;
    }
}
