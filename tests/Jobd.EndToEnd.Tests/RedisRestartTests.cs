using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>RELIABILITY.md R1: Redis killed and restarted with AOF under an idle and a busy worker.</summary>
public sealed class RedisRestartTests
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_idle_worker_carries_on_after_redis_restarts()
    {
        await using var redis = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var h = new WorkerHarness(redis.Url(), () => redis.Probe());
        await using var w = await h.StartWorkerAsync();
        await redis.KillAsync();
        await WorkerHarness.LogLineAsync(w, "redis down", Recovery);
        await redis.RestartAsync();
        var id = (await h.EnqueueAsync("{\"type\":\"noop\"}\n"))[0];
        await WorkerHarness.LogLineAsync(w, $"job {id} noop done", Recovery);
        Assert.Single(w.Stderr.Snapshot(), l => l.Contains("redis down", StringComparison.Ordinal));
        Assert.False(w.HasExited);
    }

    [Fact]
    public async Task A_busy_worker_settles_its_job_after_redis_comes_back()
    {
        await using var redis = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var h = new WorkerHarness(redis.Url(), () => redis.Probe());
        var ids = await h.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":1500}}\n{\"type\":\"noop\"}\n");
        await using var w = await h.StartWorkerAsync(("JOBD_HEARTBEAT", "5s"));
        await WorkerHarness.LogLineAsync(w, $"job {ids[0]} sleep started", Recovery);
        await redis.KillAsync();
        await redis.RestartAsync();
        await WorkerHarness.LogLineAsync(w, $"job {ids[1]} noop done", Recovery);
        Assert.Equal("done", h.Field(ids[0], "state"));
        Assert.Equal("1", h.Field(ids[0], "attempt"));
        Assert.Equal("done", h.Field(ids[1], "state"));
    }
}
