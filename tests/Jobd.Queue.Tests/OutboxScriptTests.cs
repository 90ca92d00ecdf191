using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Resp;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>
/// The outbox against a real Redis: outcomes recorded by the settling scripts in the same call, the cap that
/// pauses taking, the sink's read, take-over and acknowledgement (PROTOCOL.md, "Outbox").
/// </summary>
public sealed class OutboxScriptTests : RedisTest
{
    private static readonly WorkerLimits Limits = new(LeaseMs: 60_000, DoneTtlMs: 86_400_000, DeadTtlMs: 604_800_000,
        DeadCap: 10_000, MaxArgsBytes: 1024, MaxRecoveries: 2, TickBatch: 1000, WorkerTtlMs: 30_000, OutboxCap: 1000);
    private readonly RedisBatch _batch = new();

    private WorkerProtocol Worker(string id, WorkerLimits? limits = null) =>
        new(Keys, id, new[] { "default" }, limits ?? Limits, TimeSpan.FromSeconds(1));

    private async Task<(SettleResult Settled, RunningJob? Job, bool Full)> Take(WorkerProtocol w, Settlement settle, string token)
    {
        _batch.Clear();
        w.AppendTake(_batch, settle, token, takeNext: true);
        var t = WorkerProtocol.ParseTake(await Redis.ExecuteAsync(_batch));
        return (t.Settled, t.Job, t.OutboxFull);
    }

    private async Task<string> Enqueue(string args = "{\"n\":1}") =>
        (await new JobProducer(Redis, Keys).EnqueueAsync(new EnqueueRequest { Type = "t", ArgsJson = args })).Id;

    private async Task<List<OutcomeEntry>> ReadAll(Outbox outbox)
    {
        (await Redis.ExecuteAsync(outbox.CreateGroup)).ThrowIfError();
        var entries = new List<OutcomeEntry>();
        Outbox.ParseRead(await Redis.ExecuteAsync(outbox.ReadNew), entries);
        return entries;
    }

    [Fact]
    public async Task Each_settlement_appends_one_outcome_in_the_same_call()
    {
        var a = await Enqueue();
        var b = await Enqueue();
        var w = Worker("w");
        var (_, first, _) = await Take(w, Settlement.Nothing, "w.1");
        var (_, second, _) = await Take(w, new Settlement(SettleKind.Done, first!.Id, "w.1", "{\"ok\":true}", 0), "w.2");
        var (_, retried, _) = await Take(w, new Settlement(SettleKind.Retry, second!.Id, "w.2", "try later", 0), "w.3");
        Assert.Null(retried);

        var entries = await ReadAll(new Outbox(Keys, "sink-1", 100, TimeSpan.FromSeconds(5)));
        Assert.Equal(2, entries.Count);
        Assert.Equal((a, "succeeded", 1, 1, "{\"ok\":true}", "{\"n\":1}", "w"),
            (entries[0].JobId, entries[0].State, entries[0].Seq, entries[0].Attempt, entries[0].Text, entries[0].Args, entries[0].Worker));
        Assert.Equal((b, "failed", 1, 1, "try later"), (entries[1].JobId, entries[1].State, entries[1].Seq, entries[1].Attempt, entries[1].Text));
        Assert.True(entries[0].FinishedAtMs >= entries[0].StartedAtMs && entries[0].StartedAtMs >= entries[0].EnqueuedAtMs && entries[0].EnqueuedAtMs > 0);
    }

    [Fact]
    public async Task A_repeated_settlement_records_no_second_outcome()
    {
        var id = await Enqueue();
        var w = Worker("w");
        await Take(w, Settlement.Nothing, "w.1");
        var done = new Settlement(SettleKind.Done, id, "w.1", "", 0);
        await Take(w, done, "w.2");
        await Take(w, done, "w.3");
        using var p = Db.Probe();
        Assert.Equal(1L, p.Call("XLEN", "{jobd}:outbox"));
    }

    [Fact]
    public async Task Without_an_outbox_nothing_is_recorded()
    {
        var id = await Enqueue();
        var w = Worker("w", Limits with { OutboxCap = 0 });
        await Take(w, Settlement.Nothing, "w.1");
        await Take(w, new Settlement(SettleKind.Done, id, "w.1", "", 0), "w.2");
        using var p = Db.Probe();
        Assert.Equal(0L, p.Call("EXISTS", "{jobd}:outbox"));
        Assert.Equal("done", p.Call("HGET", "{jobd}:job:" + id, "state"));
    }

    [Fact]
    public async Task At_the_cap_the_running_job_settles_but_nothing_new_is_taken()
    {
        var w = Worker("w", Limits with { OutboxCap = 2 });
        for (int i = 0; i < 4; i++) await Enqueue();
        var (_, job, full) = await Take(w, Settlement.Nothing, "w.1");
        Assert.False(full);
        (_, job, full) = await Take(w, new Settlement(SettleKind.Done, job!.Id, "w.1", "", 0), "w.2");
        Assert.False(full);
        var last = job!.Id;
        (var settled, job, full) = await Take(w, new Settlement(SettleKind.Done, last, "w.2", "", 0), "w.3");
        Assert.Equal(SettleResult.Applied, settled);
        Assert.Null(job);
        Assert.True(full);
        using var p = Db.Probe();
        Assert.Equal(2L, p.Call("XLEN", "{jobd}:outbox"));
        Assert.Equal(2L, p.Call("LLEN", "{jobd}:q:default"));
        Assert.Equal("done", p.Call("HGET", "{jobd}:job:" + last, "state"));
    }

    [Fact]
    public async Task A_job_buried_after_its_workers_died_is_recorded_dead_with_the_attempt_that_ran()
    {
        var id = await Enqueue();
        var limits = Limits with { LeaseMs = 1, MaxRecoveries = 1 };
        await Take(Worker("a", limits), Settlement.Nothing, "a.1");
        using (var p = Db.Probe()) p.Call("ZADD", "{jobd}:leases", "1", id);
        _batch.Clear();
        Worker("b", limits).AppendTick(_batch, null, null);
        var tick = WorkerProtocol.ParseTick(await Redis.ExecuteAsync(_batch));
        Assert.Equal(new[] { id, "a" }, tick.Buried);
        Assert.Equal(1, tick.Outbox);

        var entries = await ReadAll(new Outbox(Keys, "sink-1", 100, TimeSpan.FromSeconds(5)));
        Assert.Single(entries);
        Assert.Equal(("dead", 1), (entries[0].State, entries[0].Attempt));
        Assert.StartsWith("worker_lost", entries[0].Text);
    }

    [Fact]
    public async Task A_job_too_large_is_recorded_dead_without_its_arguments()
    {
        var big = await Enqueue("{\"pad\":\"" + new string('x', 2000) + "\"}");
        await Take(Worker("w"), Settlement.Nothing, "w.1");
        var entries = await ReadAll(new Outbox(Keys, "sink-1", 100, TimeSpan.FromSeconds(5)));
        Assert.Single(entries);
        Assert.Equal((big, "dead", ""), (entries[0].JobId, entries[0].State, entries[0].Args));
        Assert.StartsWith("payload_too_large", entries[0].Text);
    }

    [Fact]
    public async Task Entries_of_a_consumer_that_died_are_taken_over_and_acknowledged_entries_leave()
    {
        var w = Worker("w");
        var id = await Enqueue();
        await Take(w, Settlement.Nothing, "w.1");
        await Take(w, new Settlement(SettleKind.Done, id, "w.1", "", 0), "w.2");

        var dead = new Outbox(Keys, "dead-worker", 100, TimeSpan.FromMilliseconds(1));
        Assert.Single(await ReadAll(dead)); // read, never acknowledged: its worker "died"
        var heir = new Outbox(Keys, "heir", 100, TimeSpan.FromMilliseconds(1));
        var none = new List<OutcomeEntry>();
        Outbox.ParseRead(await Redis.ExecuteAsync(heir.ReadNew), none);
        Assert.Empty(none);
        await Task.Delay(5);
        var claimed = new List<OutcomeEntry>();
        Outbox.ParseClaim(await Redis.ExecuteAsync(heir.Claim), claimed);
        Assert.Equal(id, Assert.Single(claimed).JobId);

        _batch.Clear();
        heir.AppendAck(_batch, claimed);
        Assert.Equal(1L, (await Redis.ExecuteAsync(_batch)).ThrowIfError().Integer);
        using var p = Db.Probe();
        Assert.Equal(0L, p.Call("XLEN", "{jobd}:outbox"));
        var pending = (object?[])p.Call("XPENDING", "{jobd}:outbox", "sink")!;
        Assert.Equal(0L, pending[0]);
    }
}
