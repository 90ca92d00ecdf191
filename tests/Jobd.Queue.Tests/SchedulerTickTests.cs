using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>The scheduler half of tick.lua: due jobs move atomically, once, whatever the number of replicas.</summary>
public sealed class SchedulerTickTests
{
    private static readonly WorkerLimits Limits = new(LeaseMs: 6000, DoneTtlMs: 86_400_000, DeadTtlMs: 604_800_000,
        DeadCap: 10_000, MaxArgsBytes: 1 << 20, MaxRecoveries: 3, TickBatch: 1000, WorkerTtlMs: 30_000);

    [Fact]
    public async Task Five_replicas_ticking_at_once_move_each_due_job_exactly_once()
    {
        using var db = await TestRedis.LeaseAsync();
        RedisOptions.TryParseUrl(db.Url, out var options, out _);
        var keys = new QueueKeys("jobd");
        await SeedDueAsync(db, options!, keys, 10_000);

        var replicas = new Task<int>[5];
        for (int r = 0; r < replicas.Length; r++)
        {
            var protocol = new WorkerProtocol(keys, "replica-" + r, new[] { "default" }, Limits, TimeSpan.FromSeconds(1));
            replicas[r] = Task.Run(async () =>
            {
                await using var client = new RedisClient(options!);
                using var batch = new RedisBatch();
                int moved = 0;
                while (true)
                {
                    batch.Clear();
                    protocol.AppendTick(batch, null, null);
                    var result = WorkerProtocol.ParseTick(await client.ExecuteAsync(batch));
                    moved += result.Moved;
                    if (result.Moved < Limits.TickBatch) return moved;
                }
            });
        }
        var counts = await Task.WhenAll(replicas);

        int total = 0;
        foreach (var c in counts) total += c;
        Assert.Equal(10_000, total);
        using var probe = db.Probe();
        Assert.Equal(0L, probe.Call("ZCARD", "{jobd}:scheduled"));
        var ids = (object?[])probe.Call("LRANGE", "{jobd}:q:default", "0", "-1")!;
        Assert.Equal(10_000, new HashSet<object?>(ids).Count);
        Assert.Equal(10_000, ids.Length);
        Assert.Equal("ready", probe.Call("HGET", "{jobd}:job:" + ids[0], "state"));
        Assert.Equal(1000L, probe.Call("LLEN", "{jobd}:wake:default"));
    }

    /// <summary>Enqueues <paramref name="count"/> jobs an hour ahead, then makes them all due now.</summary>
    private static async Task SeedDueAsync(RedisTestDatabase db, RedisOptions options, QueueKeys keys, int count)
    {
        await using (var seeder = new RedisClient(options))
        {
            var producer = new JobProducer(seeder, keys);
            var requests = new EnqueueRequest[count];
            for (int i = 0; i < requests.Length; i++) requests[i] = new EnqueueRequest { Type = "noop", Delay = TimeSpan.FromHours(1) };
            await producer.EnqueueManyAsync(requests);
        }
        using var p = db.Probe();
        p.Call("EVAL", "for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do redis.call('ZADD', KEYS[1], 1, id) end", "1", "{jobd}:scheduled");
        p.Call("DEL", "{jobd}:wake:default");
    }

    [Fact]
    public async Task A_full_batch_reports_the_backlog_and_one_pipeline_moves_the_rest()
    {
        using var db = await TestRedis.LeaseAsync();
        RedisOptions.TryParseUrl(db.Url, out var options, out _);
        var keys = new QueueKeys("jobd");
        await SeedDueAsync(db, options!, keys, 4_500);
        var protocol = new WorkerProtocol(keys, "w", new[] { "default" }, Limits, TimeSpan.FromSeconds(1));
        await using var client = new RedisClient(options!);
        using var batch = new RedisBatch();
        protocol.AppendTick(batch, null, null);
        var first = WorkerProtocol.ParseTick(await client.ExecuteAsync(batch));
        Assert.Equal(1000, first.Moved);
        Assert.Equal(3500, first.MoreDue);

        // What ControlTicker does with the backlog: ceil(3,500 / 1,000) calls in one round trip.
        batch.Clear();
        for (int i = 0; i < 4; i++) protocol.AppendTick(batch, null, null);
        var replies = new RedisReply[4];
        await client.ExecutePipelineAsync(batch, replies);
        int moved = 0;
        for (int i = 0; i < 4; i++) moved += WorkerProtocol.ParseTick(replies[i]).Moved;
        Assert.Equal(3500, moved);
        Assert.Equal(0, WorkerProtocol.ParseTick(replies[3]).MoreDue);
        using var probe = db.Probe();
        Assert.Equal(0L, probe.Call("ZCARD", "{jobd}:scheduled"));
        Assert.Equal(4500L, probe.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task The_tick_reports_the_time_until_the_next_due_job()
    {
        using var db = await TestRedis.LeaseAsync();
        RedisOptions.TryParseUrl(db.Url, out var options, out _);
        var keys = new QueueKeys("jobd");
        await using var client = new RedisClient(options!);
        await new JobProducer(client, keys).EnqueueAsync(new EnqueueRequest { Type = "noop", Delay = TimeSpan.FromMinutes(10) });
        var protocol = new WorkerProtocol(keys, "w", new[] { "default" }, Limits, TimeSpan.FromSeconds(1));
        using var batch = new RedisBatch();
        protocol.AppendTick(batch, null, null);
        var result = WorkerProtocol.ParseTick(await client.ExecuteAsync(batch));
        Assert.Equal(0, result.Moved);
        Assert.Equal(-1, result.Lease);
        Assert.InRange(result.NextEventMs, 590_000, 600_000);
        using var p = db.Probe();
        Assert.NotNull(p.Call("ZSCORE", "{jobd}:workers", "w"));
    }
}
