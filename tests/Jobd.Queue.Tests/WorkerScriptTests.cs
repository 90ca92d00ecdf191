using System;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>
/// take.lua, tick.lua and reclaim.lua against a real Redis, driven step by step: the guarantees RELIABILITY.md
/// lists (fencing of a late settlement, reclaim of a lost take, the server-side size check) without processes.
/// </summary>
public sealed class WorkerScriptTests : RedisTest
{
    private static readonly WorkerLimits Limits = new(LeaseMs: 60_000, DoneTtlMs: 86_400_000, DeadTtlMs: 604_800_000,
        DeadCap: 10_000, MaxArgsBytes: 64, MaxRecoveries: 3, TickBatch: 1000, WorkerTtlMs: 30_000);
    private readonly RedisBatch _batch = new();

    private WorkerProtocol Worker(string id, WorkerLimits? limits = null) =>
        new(Keys, id, new[] { "default" }, limits ?? Limits, TimeSpan.FromSeconds(1));

    private async Task<(SettleResult, RunningJob?)> Take(WorkerProtocol w, Settlement settle, string token)
    {
        _batch.Clear();
        w.AppendTake(_batch, settle, token, takeNext: true);
        var (settled, job, _) = WorkerProtocol.ParseTake(await Redis.ExecuteAsync(_batch));
        return (settled, job);
    }

    private async Task<TickResult> Tick(WorkerProtocol w)
    {
        _batch.Clear();
        w.AppendTick(_batch, null, null);
        return WorkerProtocol.ParseTick(await Redis.ExecuteAsync(_batch));
    }

    private Task<EnqueueResult> Enqueue(string args = "{}") =>
        new JobProducer(Redis, Keys).EnqueueAsync(new EnqueueRequest { Type = "t", ArgsJson = args }).AsTask();

    [Fact]
    public async Task A_late_settlement_after_recovery_is_fenced_and_the_new_run_wins()
    {
        var id = (await Enqueue()).Id;
        var a = Worker("a", Limits with { LeaseMs = 1 });
        var (_, jobA) = await Take(a, Settlement.Nothing, "a.1");
        Assert.Equal(id, jobA!.Id);
        // A's lease (1 ms) runs out, as for a paused worker; any tick recovers the job.
        using (var p = Db.Probe()) p.Call("ZADD", "{jobd}:leases", "1", id);
        var tick = await Tick(Worker("b"));
        Assert.Equal(new[] { id, "a" }, tick.Recovered);
        var (_, jobB) = await Take(Worker("b"), Settlement.Nothing, "b.1");
        Assert.Equal(id, jobB!.Id);
        Assert.Equal(1, jobB.Attempt);

        var (late, _) = await Take(a, new Settlement(SettleKind.Done, id, "a.1", "from a", 0), "a.2");
        Assert.Equal(SettleResult.LeaseLost, late);
        var (won, _) = await Take(Worker("b"), new Settlement(SettleKind.Done, id, "b.1", "from b", 0), "b.2");
        Assert.Equal(SettleResult.Applied, won);
        using var probe = Db.Probe();
        Assert.Equal("from b", probe.Call("HGET", "{jobd}:job:" + id, "result"));
        Assert.Equal("1", probe.Call("HGET", "{jobd}:job:" + id, "recoveries"));
        Assert.Equal("1", probe.Call("HGET", "{jobd}:stats", "done"));
    }

    [Fact]
    public async Task A_queue_key_of_another_type_parks_recovered_and_due_jobs_instead_of_aborting_the_tick()
    {
        var recovered = (await Enqueue()).Id;
        var a = Worker("a", Limits with { LeaseMs = 1 });
        await Take(a, Settlement.Nothing, "a.1");
        var due = (await new JobProducer(Redis, Keys).EnqueueAsync(new EnqueueRequest { Type = "t", Delay = TimeSpan.FromMilliseconds(1) })).Id;
        using var p = Db.Probe();
        p.Call("ZADD", "{jobd}:leases", "1", recovered);
        p.Call("SET", "{jobd}:q:default", "someone else's string");
        await Task.Delay(5);
        var tick = await Tick(Worker("b"));
        Assert.Equal(new[] { recovered, "a" }, tick.Recovered);
        Assert.Equal("{jobd}:q:default", tick.BadQueues[0]);
        Assert.StartsWith("WRONGTYPE", tick.BadQueues[1]);
        Assert.Equal(2, tick.BadQueues.Length); // once per key, not per job
        foreach (var id in new[] { recovered, due })
        {
            Assert.Equal("scheduled", p.Call("HGET", "{jobd}:job:" + id, "state"));
            Assert.True(double.Parse((string)p.Call("ZSCORE", "{jobd}:scheduled", id)!) > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 50_000);
        }
        // A take skips the key and reports it, having looked at the one queue it serves.
        _batch.Clear();
        Worker("c").AppendTake(_batch, Settlement.Nothing, "c.1", takeNext: true);
        var take = WorkerProtocol.ParseTake(await Redis.ExecuteAsync(_batch));
        Assert.Null(take.Job);
        Assert.Equal("{jobd}:q:default", take.BadQueues[0]);
        Assert.Equal(1, take.Visited);
    }

    [Fact]
    public async Task A_repeated_settlement_is_applied_once()
    {
        var id = (await Enqueue()).Id;
        var w = Worker("w");
        await Take(w, Settlement.Nothing, "w.1");
        var done = new Settlement(SettleKind.Done, id, "w.1", "", 0);
        Assert.Equal(SettleResult.Applied, (await Take(w, done, "w.2")).Item1);
        Assert.Equal(SettleResult.Applied, (await Take(w, done, "w.3")).Item1);
        using var p = Db.Probe();
        Assert.Equal("1", p.Call("HGET", "{jobd}:stats", "done"));
    }

    [Fact]
    public async Task A_take_whose_reply_was_lost_is_reclaimed_to_the_front_unspent()
    {
        var first = (await Enqueue()).Id;
        var second = (await Enqueue()).Id;
        var w = Worker("w");
        await Take(w, Settlement.Nothing, "w.1"); // the reply "never arrived"
        _batch.Clear();
        w.AppendReclaim(_batch, null);
        Assert.Equal(first, (await Redis.ExecuteAsync(_batch)).AsString());
        using var p = Db.Probe();
        Assert.Equal("ready", p.Call("HGET", "{jobd}:job:" + first, "state"));
        Assert.Equal("0", p.Call("HGET", "{jobd}:job:" + first, "attempt"));
        Assert.Equal(first, p.Call("LINDEX", "{jobd}:q:default", "-1"));
        Assert.Equal(second, p.Call("LINDEX", "{jobd}:q:default", "0"));
        Assert.Equal(0L, p.Call("ZCARD", "{jobd}:leases"));
        _batch.Clear();
        w.AppendReclaim(_batch, null);
        Assert.Equal("", (await Redis.ExecuteAsync(_batch)).AsString());
    }

    [Fact]
    public async Task A_job_larger_than_the_limit_is_buried_unread_by_the_worker()
    {
        // Written past the producer's check, as another language's producer could.
        var big = (await Enqueue("{\"pad\":\"" + new string('x', 100) + "\"}")).Id;
        var small = (await Enqueue()).Id;
        var (_, job) = await Take(Worker("w"), Settlement.Nothing, "w.1");
        Assert.Equal(small, job!.Id);
        using var p = Db.Probe();
        Assert.Equal("dead", p.Call("HGET", "{jobd}:job:" + big, "state"));
        Assert.Equal("payload_too_large (110 bytes)", p.Call("HGET", "{jobd}:job:" + big, "last_error"));
    }

    [Fact]
    public async Task An_id_pushed_twice_runs_once_and_its_second_entry_is_dropped_and_reported()
    {
        var id = (await Enqueue()).Id;
        using var p = Db.Probe();
        p.Call("LPUSH", "{jobd}:q:default", id); // a raw producer's duplicate push
        var (_, first) = await Take(Worker("a"), Settlement.Nothing, "a.1");
        Assert.Equal(id, first!.Id);
        var next = (await Enqueue()).Id;

        _batch.Clear();
        Worker("b").AppendTake(_batch, Settlement.Nothing, "b.1", takeNext: true);
        var take = WorkerProtocol.ParseTake(await Redis.ExecuteAsync(_batch));
        // The running job is not taken again; the next ready one is.
        Assert.Equal(next, take.Job!.Id);
        Assert.Equal(new[] { id, "running" }, take.Skipped);
        Assert.Equal("a.1", p.Call("HGET", "{jobd}:job:" + id, "token"));
        Assert.Equal("1", p.Call("HGET", "{jobd}:job:" + id, "attempt"));

        // Settled by its holder, the job is done once, and another stray entry still runs nothing.
        var (settled, _) = await Take(Worker("a"), new Settlement(SettleKind.Done, id, "a.1", "ok", 0), "a.2");
        Assert.Equal(SettleResult.Applied, settled);
        p.Call("LPUSH", "{jobd}:q:default", id);
        _batch.Clear();
        Worker("c").AppendTake(_batch, Settlement.Nothing, "c.1", takeNext: true);
        take = WorkerProtocol.ParseTake(await Redis.ExecuteAsync(_batch));
        Assert.Null(take.Job);
        Assert.Equal(new[] { id, "done" }, take.Skipped);
        Assert.Equal("done", p.Call("HGET", "{jobd}:job:" + id, "state"));
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task The_dead_list_is_capped_oldest_first()
    {
        var w = Worker("w", Limits with { DeadCap = 2 });
        string? previous = null, token = null;
        var ids = new string[3];
        for (int i = 0; i < 3; i++)
        {
            ids[i] = (await Enqueue()).Id;
            var settle = previous is null ? Settlement.Nothing : new Settlement(SettleKind.Dead, previous, token!, "boom", 0);
            token = "w." + i;
            var (_, job) = await Take(w, settle, token);
            previous = job!.Id;
        }
        await Take(w, new Settlement(SettleKind.Dead, previous!, token!, "boom", 0), "w.9");
        using var p = Db.Probe();
        Assert.Equal(2L, p.Call("ZCARD", "{jobd}:dead"));
        Assert.Equal(0L, p.Call("EXISTS", "{jobd}:job:" + ids[0]));
        Assert.Equal("dead", p.Call("HGET", "{jobd}:job:" + ids[2], "state"));
    }
}
