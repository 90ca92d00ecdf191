using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Queue.Admin;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>
/// RELIABILITY R12 at the protocol level: every script and stream command of PROTOCOL.md against a real 3-node Redis
/// Cluster, on the node serving the prefix's slot. A CROSSSLOT or non-local key error would surface as a
/// RedisServerException here (ThrowIfError, Parse*). The same calls through a node that does not serve the slot
/// follow MOVED.
/// </summary>
public sealed class ClusterScriptTests : IAsyncLifetime
{
    private static readonly WorkerLimits Limits = new(LeaseMs: 60_000, DoneTtlMs: 86_400_000, DeadTtlMs: 604_800_000,
        DeadCap: 10_000, MaxArgsBytes: 1024, MaxRecoveries: 2, TickBatch: 1000, WorkerTtlMs: 30_000, OutboxCap: 1000);
    private readonly QueueKeys _keys = new("jobd");
    private readonly RedisBatch _batch = new();
    private RedisCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await RedisCluster.StartAsync();
    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private RedisClient ClientAt(RedisServer node) =>
        new(new RedisOptions { Host = node.Host, Port = node.Port });

    [Fact]
    public Task Every_script_runs_on_the_node_serving_the_slot() => RunEveryScriptAsync(_cluster.OwnerOf("{jobd}"));

    [Fact]
    public Task Every_script_runs_through_a_node_that_answers_MOVED() => RunEveryScriptAsync(_cluster.NonOwnerOf("{jobd}"));

    private async Task RunEveryScriptAsync(RedisServer node)
    {
        await using var redis = ClientAt(node);
        var producer = new JobProducer(redis, _keys);
        var w = new WorkerProtocol(_keys, "w", new[] { "default" }, Limits, TimeSpan.FromSeconds(1));

        // enqueue.lua: single and pipelined, now and delayed.
        var a = (await producer.EnqueueAsync(new EnqueueRequest { Type = "t", ArgsJson = "{\"n\":1}" })).Id;
        var many = await producer.EnqueueManyAsync(new[]
        {
            new EnqueueRequest { Type = "t" }, new EnqueueRequest { Type = "t", Delay = TimeSpan.FromMinutes(1) },
        });
        Assert.All(many, r => Assert.Null(r.Refusal));

        // take.lua: take, settle done, settle dead; tick.lua; reclaim.lua with nothing lost.
        var (_, first) = await Take(redis, w, Settlement.Nothing, "w.1");
        Assert.Equal(a, first!.Id);
        var (done, second) = await Take(redis, w, new Settlement(SettleKind.Done, a, "w.1", "ok", 0), "w.2");
        Assert.Equal(SettleResult.Applied, done);
        var (dead, _) = await Take(redis, w, new Settlement(SettleKind.Dead, second!.Id, "w.2", "bad", 0), "w.3");
        Assert.Equal(SettleResult.Applied, dead);
        _batch.Clear();
        w.AppendTick(_batch, null, null);
        var tick = WorkerProtocol.ParseTick(await redis.ExecuteAsync(_batch));
        Assert.Equal(0, tick.Moved); // the delayed job is a minute away
        Assert.True(tick.NextEventMs > 0);
        _batch.Clear();
        w.AppendReclaim(_batch, null);
        (await redis.ExecuteAsync(_batch)).ThrowIfError();

        // dead_retry.lua and dead_purge.lua through the admin class (pipelined reads included).
        var admin = new DeadJobs(redis, _keys);
        Assert.Single(await admin.ListAsync(null, 10));
        Assert.Equal(1, await admin.RetryAsync(new[] { second.Id }));
        var (_, again) = await Take(redis, w, Settlement.Nothing, "w.5");
        Assert.Equal(second.Id, again!.Id);
        await Take(redis, w, new Settlement(SettleKind.Dead, second.Id, "w.5", "bad again", 0), "w.6");
        Assert.Equal(1, await admin.PurgeAsync(null));

        // cron_fire.lua.
        _batch.Clear();
        CronProtocol.AppendFire(_batch, _keys, "c", 1000, "cron:c:1000", "noop", "default", "{}", 1000);
        Assert.Equal(CronFireStatus.Enqueued, CronProtocol.ParseFire(await redis.ExecuteAsync(_batch)).Status);

        // The outbox: XGROUP CREATE, XREADGROUP, XAUTOCLAIM, outbox_ack.lua, XLEN.
        var outbox = new Outbox(_keys, "sink-1", 100, TimeSpan.Zero);
        try { await redis.ExecuteAsync(outbox.CreateGroup); }
        catch (RedisServerException e) when (e.Is("BUSYGROUP")) { }
        var entries = new List<OutcomeEntry>();
        Outbox.ParseRead(await redis.ExecuteAsync(outbox.ReadNew), entries);
        Assert.Equal(3, entries.Count); // done a, dead second (twice)
        var claimed = new List<OutcomeEntry>();
        Outbox.ParseClaim(await redis.ExecuteAsync(outbox.Claim), claimed);
        Assert.Equal(3, claimed.Count);
        _batch.Clear();
        outbox.AppendAck(_batch, entries);
        (await redis.ExecuteAsync(_batch)).ThrowIfError();
        Assert.Equal(0, (await redis.ExecuteAsync(outbox.Length)).Integer);

        // Every key landed on the node serving the slot.
        using var owner = _cluster.OwnerOf("{jobd}").Probe();
        Assert.Equal("done", owner.Call("HGET", "{jobd}:job:" + a, "state"));
    }

    private async Task<(SettleResult Settled, RunningJob? Job)> Take(RedisClient redis, WorkerProtocol w, Settlement settle, string token)
    {
        _batch.Clear();
        w.AppendTake(_batch, settle, token, takeNext: true);
        var (settled, job, _) = WorkerProtocol.ParseTake(await redis.ExecuteAsync(_batch));
        return (settled, job);
    }
}
