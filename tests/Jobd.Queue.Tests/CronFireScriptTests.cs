using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>cron_fire.lua against a real Redis: one job per fire time, whoever calls and however often.</summary>
public sealed class CronFireScriptTests : RedisTest
{
    private async Task<CronFireResult> FireAsync(RedisClient redis, string name, long fireMs, string queue = "default", long earlyMs = 1000)
    {
        using var batch = new RedisBatch();
        CronProtocol.AppendFire(batch, Keys, name, fireMs, "cron:" + name + ":" + fireMs, "noop", queue, "{\"n\":1}", earlyMs);
        return CronProtocol.ParseFire(await redis.ExecuteAsync(batch));
    }

    private long RedisNowMs()
    {
        using var p = Db.Probe();
        var t = (object?[])p.Call("TIME")!;
        return long.Parse((string)t[0]!) * 1000 + long.Parse((string)t[1]!) / 1000;
    }

    [Fact]
    public async Task The_first_call_for_a_fire_time_enqueues_a_ready_job_and_records_the_time()
    {
        long fire = RedisNowMs() / 1000 * 1000 - 1000;
        var r = await FireAsync(Redis, "digest", fire);
        Assert.Equal(CronFireStatus.Enqueued, r.Status);
        Assert.Equal(fire, r.LastFireMs);
        Assert.True(r.RedisNowMs >= fire);
        using var p = Db.Probe();
        var id = "cron:digest:" + fire;
        Assert.Equal(fire.ToString(), (string?)p.Call("HGET", "{jobd}:cron", "digest"));
        Assert.Equal(id, (string?)p.Call("LINDEX", "{jobd}:q:default", "0"));
        Assert.Equal("ready", (string?)p.Call("HGET", "{jobd}:job:" + id, "state"));
        Assert.Equal("noop", (string?)p.Call("HGET", "{jobd}:job:" + id, "type"));
        Assert.Equal("{\"n\":1}", (string?)p.Call("HGET", "{jobd}:job:" + id, "args"));
        Assert.Equal(fire.ToString(), (string?)p.Call("HGET", "{jobd}:job:" + id, "run_at"));
        Assert.Equal(1L, (long)p.Call("LLEN", "{jobd}:wake:default")!);
        Assert.Equal(1L, (long)p.Call("SISMEMBER", "{jobd}:queues", "default")!);
    }

    [Fact]
    public async Task The_same_or_an_earlier_fire_time_writes_nothing()
    {
        long fire = RedisNowMs() - 5000;
        Assert.Equal(CronFireStatus.Enqueued, (await FireAsync(Redis, "digest", fire)).Status);
        var again = await FireAsync(Redis, "digest", fire);
        Assert.Equal(CronFireStatus.AlreadyFired, again.Status);
        Assert.Equal(fire, again.LastFireMs);
        Assert.Equal(CronFireStatus.AlreadyFired, (await FireAsync(Redis, "digest", fire - 1000)).Status);
        // Another schedule is independent.
        Assert.Equal(CronFireStatus.Enqueued, (await FireAsync(Redis, "other", fire - 1000)).Status);
        using var p = Db.Probe();
        Assert.Equal(2L, (long)p.Call("LLEN", "{jobd}:q:default")!);
        Assert.Equal(0L, (long)p.Call("EXISTS", "{jobd}:job:cron:digest:" + (fire - 1000))!);
    }

    [Fact]
    public async Task A_fire_time_far_ahead_of_redis_clock_is_refused_and_a_slightly_early_one_is_scheduled()
    {
        long now = RedisNowMs();
        var early = await FireAsync(Redis, "digest", now + 60_000);
        Assert.Equal(CronFireStatus.Early, early.Status);
        Assert.Equal(0, early.LastFireMs);
        using var p = Db.Probe();
        Assert.Equal(0L, (long)p.Call("EXISTS", "{jobd}:cron")!);

        // Within the allowance: enqueued, and scheduled for its time (30 s is far more than this test can lag).
        var soon = await FireAsync(Redis, "digest", now + 30_000, earlyMs: 60_000);
        Assert.Equal(CronFireStatus.Enqueued, soon.Status);
        Assert.Equal("scheduled", (string?)p.Call("HGET", "{jobd}:job:cron:digest:" + (now + 30_000), "state"));
        Assert.Equal(1L, (long)p.Call("ZCARD", "{jobd}:scheduled")!);
        Assert.Equal(0L, (long)p.Call("LLEN", "{jobd}:q:default")!);
    }

    [Fact]
    public async Task Five_replicas_racing_over_a_hundred_fire_times_enqueue_each_once()
    {
        RedisOptions.TryParseUrl(Db.Url, out var options, out _);
        long start = RedisNowMs() / 1000 * 1000 - 200_000;
        var replicas = new Task<int>[5];
        for (int r = 0; r < replicas.Length; r++)
        {
            replicas[r] = Task.Run(async () =>
            {
                await using var client = new RedisClient(options!);
                int enqueued = 0;
                for (int i = 0; i < 100; i++)
                    if ((await FireAsync(client, "tick", start + i * 1000)).Status == CronFireStatus.Enqueued) enqueued++;
                return enqueued;
            });
        }
        int total = 0;
        foreach (var n in await Task.WhenAll(replicas)) total += n;
        Assert.Equal(100, total);
        using var p = Db.Probe();
        Assert.Equal(100L, (long)p.Call("LLEN", "{jobd}:q:default")!);
        for (int i = 0; i < 100; i++) Assert.Equal(1L, (long)p.Call("EXISTS", "{jobd}:job:cron:tick:" + (start + i * 1000))!);
    }

    [Theory]
    [InlineData("bad name", "schedule name must be")]
    [InlineData("", "schedule name must be")]
    public async Task Malformed_arguments_are_refused_and_write_nothing(string name, string error)
    {
        using var batch = new RedisBatch();
        CronProtocol.AppendFire(batch, Keys, name, 1000, "cron:x:1000", "noop", "default", "{}", 1000);
        var e = await Assert.ThrowsAsync<RedisServerException>(async () => CronProtocol.ParseFire(await Redis.ExecuteAsync(batch)));
        Assert.Contains(error, e.Message);
        using var p = Db.Probe();
        Assert.Equal(0L, (long)p.Call("DBSIZE")!);
    }
}
