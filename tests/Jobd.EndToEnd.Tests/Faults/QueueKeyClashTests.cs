using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md "Redis type clash": something else writes a string where jobd keeps a queue list. Redis answers
/// WRONGTYPE to every list command on it; the worker must say so once naming the key and keep serving its other
/// queues, and no job of that queue may be lost (PROTOCOL.md, push_queue: such jobs wait in the scheduled set).
/// </summary>
public sealed class QueueKeyClashTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task B_type_clash_one_line_naming_the_key_and_the_other_queues_keep_flowing()
    {
        await using var run = await FaultRun.StartAsync("B-type-clash");
        // The clashing queue comes first in priority: the strictest case (a stall there would stop everything).
        var w = await run.StartWorkerAsync(("JOBD_QUEUES", "clash,default"));
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        var scheduled = (await h.EnqueueAsync("{\"type\":\"ledger\",\"queue\":\"clash\",\"in\":\"2s\"}\n"))[0];
        run.Adopt(scheduled);
        run.RedisCommand(FaultKind.Other, "SET", "{jobd}:q:clash", "a string someone else wrote");

        await run.EnqueueAsync(200, i => (i % 3, i % 20 == 0 ? 2 : 0));
        await run.DrainAsync(Wait, except: scheduled);
        await WorkerHarness.LogLineAsync(w, "queue key {jobd}:q:clash is not a list (WRONGTYPE", Wait);

        // The job due meanwhile could not be pushed: parked in the scheduled set for a minute, not lost.
        using (var p = run.Probe())
        {
            await Eventually.ReachesAsync(() => Task.FromResult(ParkedFor(p, scheduled)), 1, Wait);
            Assert.Equal("scheduled", (string?)p.Call("HGET", "{jobd}:job:" + scheduled, "state"));
        }
        // Producers are told, before anything is written.
        await using (var enqueue = JobdBinary.Start(new[] { "enqueue", "ledger", "--queue", "clash" }, JobdBinary.Env(("REDIS_URL", run.RedisUrl))))
        {
            Assert.Equal(69, await enqueue.WaitForExitAsync(Wait));
            Assert.Equal("jobd: redis refused the job: ERR jobd: queue key {jobd}:q:clash holds a string, not a list", Assert.Single(enqueue.Stderr.Snapshot()));
        }
        // Operators see it, and the other numbers.
        await using (var stats = JobdBinary.Start(new[] { "stats" }, JobdBinary.Env(("REDIS_URL", run.RedisUrl), ("JOBD_QUEUES", "clash,default"))))
        {
            Assert.Equal(0, await stats.WaitForExitAsync(Wait));
            Assert.Contains(stats.Stdout.Snapshot(), l => l.StartsWith("clash", StringComparison.Ordinal) && l.Contains("not a list (WRONGTYPE)", StringComparison.Ordinal));
        }

        // The key is removed: the next take finds a list again and says so once; the parked job runs once due (the
        // test brings its minute forward, as an operator could, instead of waiting it out).
        run.RedisCommand(FaultKind.Other, "DEL", "{jobd}:q:clash");
        await run.EnqueueAsync(20, _ => (0, 0));
        await WorkerHarness.LogLineAsync(w, "queue key {jobd}:q:clash is a list again", Wait);
        run.RedisCommand(FaultKind.Other, "ZADD", "{jobd}:scheduled", "0", scheduled);
        await run.DrainAsync(Wait);
        await run.CheckAsync();
        Assert.Equal(1, run.CountLines("queue key {jobd}:q:clash is not a list"));
        Assert.Equal(1, run.CountLines("queue key {jobd}:q:clash is a list again"));
        Assert.Equal(0, run.CountLines("redis refused the take script"));
        Assert.Equal(0, run.CountLines("control tick failed"));
        FaultTable.Record("B-type-clash", "{jobd}:q:clash SET to a string while it is the worker's first queue, with a job due on it",
            "one error line naming the key (WRONGTYPE); the take skips it and the other queue ran all 220 jobs; the due job parked in the scheduled set (state scheduled, a minute later), not lost; jobd enqueue to it refused naming the key; jobd stats shows it 'not a list'; after DEL one 'is a list again' line and the parked job ran. Was: every take failed (all queues stalled, 'redis refused the take script' once) and the tick aborted after removing the due batch from the scheduled set (jobs lost)",
            "I1–I5 hold");
    }

    /// <summary>1 when the job sits in the scheduled set more than 30 s ahead (parked), else 0.</summary>
    private static long ParkedFor(RedisProbe p, string id)
    {
        var score = (string?)p.Call("ZSCORE", "{jobd}:scheduled", id);
        return score is not null && double.Parse(score, System.Globalization.CultureInfo.InvariantCulture) > FaultRun.NowMs() + 30_000 ? 1 : 0;
    }
}
