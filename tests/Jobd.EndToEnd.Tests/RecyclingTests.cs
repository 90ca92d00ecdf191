using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>RELIABILITY.md P10: the recycling guard exits cleanly with code 75, no job lost or run twice.</summary>
public sealed class RecyclingTests : WorkerTest
{
    [Fact]
    public async Task Max_jobs_exits_75_after_settling_and_the_next_process_takes_the_rest()
    {
        var ids = await H.EnqueueAsync(WorkerHarness.Lines(8, "{\"type\":\"noop\"}"));
        await using (var first = await H.StartWorkerAsync(("JOBD_MAX_JOBS", "5")))
        {
            Assert.Equal(75, await first.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains(first.Stderr.Snapshot(), l => l.Contains("recycling: 5 jobs done (JOBD_MAX_JOBS=5)", StringComparison.Ordinal));
        }
        Assert.Equal("5", CountDone());
        await using var second = await H.StartWorkerAsync(("JOBD_MAX_JOBS", "5"));
        await WorkerHarness.LogLineAsync(second, $"job {ids[^1]} noop done", TimeSpan.FromSeconds(20));
        Assert.Equal("8", CountDone());
        foreach (var id in ids) Assert.Equal("1", H.Field(id, "attempt"));
    }

    [Fact]
    public async Task An_idle_worker_over_its_memory_limit_recycles_without_waiting_for_a_job()
    {
        await using var w = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_MAX_RSS_MB", "1")));
        Assert.Equal(75, await w.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(w.Stderr.Snapshot(), l => l.Contains("above JOBD_MAX_RSS_MB=1", StringComparison.Ordinal));
    }

    private string? CountDone()
    {
        using var p = Db.Probe();
        return (string?)p.Call("HGET", "{jobd}:stats", "done");
    }
}
