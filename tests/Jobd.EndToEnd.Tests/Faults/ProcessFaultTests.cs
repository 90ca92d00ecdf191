using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>Process faults (RELIABILITY.md P2, P8) against the ledger checker.</summary>
public sealed class ProcessFaultTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(20261122)]
    public async Task P2_random_kill_9_of_two_replicas_loses_nothing_and_reruns_only_after_recoveries(int seed)
    {
        await using var run = await FaultRun.StartAsync("P2", seed);
        var rnd = new Random(seed);
        await run.EnqueueAsync(2000, i => (i % 4 == 0 ? 20 : 0, 0)); // some last long enough to be cut mid-run
        await run.StartWorkerAsync();
        await run.StartWorkerAsync();
        for (int k = 0; k < 8; k++)
        {
            await Task.Delay(rnd.Next(150, 900));
            var alive = run.Alive();
            await run.KillAsync(alive[rnd.Next(alive.Count)]);
            await run.StartWorkerAsync(); // a fresh worker id, as a supervisor would start
        }
        await run.DrainAsync(Drain);
        var c = await run.CheckAsync();
        FaultTable.Record("P2", "kill -9 at random points, 2 replicas, 2,000 jobs, 8 kills (seed " + seed + ")",
            $"{run.CountLines("recovered job ")} recoveries logged; every job done at attempt 1", $"I1–I5 hold (I3 checked on {c.I3Checked} interrupted runs)");
    }

    [Fact]
    public async Task P8_a_worker_stopped_past_its_lease_is_fenced_and_logs_lease_lost()
    {
        await using var run = await FaultRun.StartAsync("P8");
        var id = (await run.EnqueueAsync(1, _ => (2500, 0)))[0];
        var paused = await run.StartWorkerAsync();
        await WorkerHarness.LogLineAsync(paused, $"job {id} ledger started", Drain);
        run.Stop(paused);
        var rescuer = await run.StartWorkerAsync();
        await WorkerHarness.LogLineAsync(rescuer, $"recovered job {id} from worker", Drain);
        await WorkerHarness.LogLineAsync(rescuer, $"job {id} ledger done", Drain);
        run.Cont(paused);
        await WorkerHarness.LogLineAsync(paused, $"lease lost: job {id}", Drain);
        await run.DrainAsync(Drain);
        var ledger = Ledger.Read(run.LedgerDir);
        Assert.Equal(2, ledger.Count); // both ran it; only the rescuer's outcome counts
        var c = await run.CheckAsync();
        Assert.Equal(1, c.I3Checked);
        using var p = run.Probe();
        Assert.Equal("1", p.Call("HGET", "{jobd}:job:" + id, "recoveries"));
        FaultTable.Record("P8", "SIGSTOP past the lease, then SIGCONT",
            "another worker recovered and ran it; the paused worker logged 'lease lost' and its outcome was refused by token", "I1–I5 hold; one accepted outcome");
    }
}
