using System;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>The enqueue script and the .NET producer against a real redis-server: seed, enqueue, inspect.</summary>
public sealed class JobProducerTests : RedisTest
{
    private JobProducer _producer = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _producer = new JobProducer(Redis, Keys);
    }

    private static long RedisNowMs(RedisProbe p)
    {
        var t = (object?[])p.Call("TIME")!;
        return long.Parse((string)t[0]!) * 1000 + long.Parse((string)t[1]!) / 1000;
    }

    [Fact]
    public async Task A_ready_job_is_stored_queued_and_wakes_one_worker()
    {
        var r = await _producer.EnqueueAsync(new EnqueueRequest { Type = "send_reminder", ArgsJson = "{\"user_id\":42}" });
        Assert.True(r.Created);
        Assert.Equal("ready", r.State);
        Assert.Equal(26, r.Id.Length);
        using var p = Db.Probe();
        Assert.Equal(new object?[] { r.Id }, (object?[])p.Call("LRANGE", "{jobd}:q:default", "0", "-1")!);
        Assert.Equal("send_reminder", p.Call("HGET", "{jobd}:job:" + r.Id, "type"));
        Assert.Equal("{\"user_id\":42}", p.Call("HGET", "{jobd}:job:" + r.Id, "args"));
        Assert.Equal("ready", p.Call("HGET", "{jobd}:job:" + r.Id, "state"));
        Assert.Equal("0", p.Call("HGET", "{jobd}:job:" + r.Id, "attempt"));
        Assert.Equal("25", p.Call("HGET", "{jobd}:job:" + r.Id, "max_attempts"));
        Assert.Equal(1L, p.Call("LLEN", "{jobd}:wake:default"));
        Assert.Equal(1L, p.Call("SISMEMBER", "{jobd}:queues", "default"));
    }

    [Fact]
    public async Task A_delayed_job_is_scheduled_by_redis_time()
    {
        using var p = Db.Probe();
        long before = RedisNowMs(p);
        var r = await _producer.EnqueueAsync(new EnqueueRequest
        {
            Type = "t", Queue = "low", Delay = TimeSpan.FromMinutes(5), MaxAttempts = 3, Timeout = TimeSpan.FromSeconds(30),
        });
        long after = RedisNowMs(p);
        Assert.Equal("scheduled", r.State);
        long due = long.Parse((string)p.Call("ZSCORE", "{jobd}:scheduled", r.Id)!);
        Assert.InRange(due, before + 300_000, after + 300_000);
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:q:low"));
        Assert.Equal("3", p.Call("HGET", "{jobd}:job:" + r.Id, "max_attempts"));
        Assert.Equal("30000", p.Call("HGET", "{jobd}:job:" + r.Id, "timeout_ms"));
        Assert.Equal(1L, p.Call("LLEN", "{jobd}:wake")); // the timer list: any idle worker ticks
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:wake:low"));
    }

    [Fact]
    public async Task Only_a_new_earliest_scheduled_job_wakes_a_worker()
    {
        await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", Delay = TimeSpan.FromMinutes(1) });
        await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", Delay = TimeSpan.FromMinutes(2) });
        using var p = Db.Probe();
        Assert.Equal(1L, p.Call("LLEN", "{jobd}:wake"));
        await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", Delay = TimeSpan.FromSeconds(10) });
        Assert.Equal(2L, p.Call("LLEN", "{jobd}:wake"));
    }

    [Fact]
    public async Task A_job_at_a_past_time_is_ready_at_once()
    {
        var r = await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", RunAt = DateTimeOffset.UnixEpoch.AddYears(30) });
        Assert.Equal("ready", r.State);
    }

    [Fact]
    public async Task A_held_unique_key_makes_the_enqueue_a_no_op_that_names_the_holder()
    {
        var first = await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", UniqueKey = "report:2026-11", Delay = TimeSpan.FromHours(2) });
        var second = await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", UniqueKey = "report:2026-11" });
        Assert.True(first.Created);
        Assert.True(second.Duplicate);
        Assert.Equal("duplicate", second.State);
        Assert.Equal(first.Id, second.Id);
        using var p = Db.Probe();
        Assert.Equal(1L, p.Call("ZCARD", "{jobd}:scheduled"));
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:q:default"));
        // The key outlives the job's due time (2 h) by the unique TTL (24 h), never forever.
        long pttl = (long)p.Call("PTTL", "{jobd}:unique:report:2026-11")!;
        Assert.InRange(pttl, TimeSpan.FromHours(25.9).TotalMilliseconds, TimeSpan.FromHours(26).TotalMilliseconds);
    }

    [Fact]
    public async Task Ten_thousand_unique_enqueues_of_one_key_leave_one_job()
    {
        var requests = new EnqueueRequest[10_000];
        for (int i = 0; i < requests.Length; i++) requests[i] = new EnqueueRequest { Type = "t", UniqueKey = "same" };
        var results = await _producer.EnqueueManyAsync(requests);
        Assert.Single(results, r => r.Created);
        Assert.All(results, r => Assert.Equal(results[0].Id, r.Id));
        using var p = Db.Probe();
        Assert.Equal(1L, p.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task A_reused_id_is_refused_and_nothing_changes()
    {
        var r = await _producer.EnqueueAsync(new EnqueueRequest { Type = "t", Id = "order-7" });
        var e = await Assert.ThrowsAsync<RedisServerException>(async () =>
            await _producer.EnqueueAsync(new EnqueueRequest { Type = "other", Id = "order-7" }));
        Assert.Contains("jobd: job order-7 exists", e.Message);
        using var p = Db.Probe();
        Assert.Equal("t", p.Call("HGET", "{jobd}:job:order-7", "type"));
        Assert.Equal(1L, p.Call("LLEN", "{jobd}:q:default"));
        Assert.Equal("order-7", r.Id);
    }

    [Fact]
    public async Task A_pipelined_batch_of_a_thousand_lands_in_order()
    {
        var requests = new EnqueueRequest[1000];
        for (int i = 0; i < requests.Length; i++) requests[i] = new EnqueueRequest { Type = "t", ArgsJson = "{\"n\":" + i + "}" };
        var results = await _producer.EnqueueManyAsync(requests);
        Assert.All(results, r => Assert.True(r.Created));
        using var p = Db.Probe();
        Assert.Equal(1000L, p.Call("LLEN", "{jobd}:q:default"));
        Assert.Equal(results[0].Id, p.Call("LINDEX", "{jobd}:q:default", "-1"));
        Assert.Equal(1000L, p.Call("LLEN", "{jobd}:wake:default"));
    }

    [Fact]
    public async Task The_wake_list_is_capped()
    {
        var requests = new EnqueueRequest[1500];
        for (int i = 0; i < requests.Length; i++) requests[i] = new EnqueueRequest { Type = "t" };
        await _producer.EnqueueManyAsync(requests);
        using var p = Db.Probe();
        Assert.Equal(1000L, p.Call("LLEN", "{jobd}:wake:default"));
        Assert.Equal(1500L, p.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task A_prefix_isolates_applications()
    {
        var other = new JobProducer(Redis, new QueueKeys("billing"));
        await other.EnqueueAsync(new EnqueueRequest { Type = "t" });
        using var p = Db.Probe();
        Assert.Equal(1L, p.Call("LLEN", "{billing}:q:default"));
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task Enqueue_survives_a_script_cache_flush()
    {
        await _producer.EnqueueAsync(new EnqueueRequest { Type = "t" });
        using (var p = Db.Probe()) p.Call("SCRIPT", "FLUSH");
        var r = await _producer.EnqueueAsync(new EnqueueRequest { Type = "t" });
        Assert.True(r.Created);
    }
}
