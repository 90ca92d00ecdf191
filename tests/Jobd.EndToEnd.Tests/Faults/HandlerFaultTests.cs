using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// Handlers that make their process unfit to go on (RELIABILITY.md P9, P11): jobd exits with code 70, the job is
/// recovered like a killed worker's, and after JOBD_MAX_RECOVERIES it is dead as worker_lost.
/// </summary>
public sealed class HandlerFaultTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    /// <summary>
    /// One poison job among 40 good ones, two workers from the start and one more started for each that exits,
    /// as a supervisor would, until the poison job is dead. JOBD_MAX_RECOVERIES=2: one recovery, then dead.
    /// </summary>
    private static async Task<(string Poison, List<string> ExitLines)> PoisonAsync(FaultRun run, string poisonArgs, string exitLine, params (string, string)[] env)
    {
        var all = new List<(string, string)>(env) { ("JOBD_MAX_RECOVERIES", "2") };
        var poison = (await run.EnqueueArgsAsync(poisonArgs))[0];
        await run.EnqueueAsync(40, i => (20, 0));
        var running = new List<ChildProcess> { await run.StartWorkerAsync(all.ToArray()), await run.StartWorkerAsync(all.ToArray()) };
        var lines = new List<string>();
        var deadline = DateTime.UtcNow + Drain;
        using var p = run.Probe();
        while ((string?)p.Call("HGET", "{jobd}:job:" + poison, "state") != "dead")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"poison job {poison} not dead after {Drain.TotalSeconds} s; {lines.Count} exits");
            foreach (var w in running.ToArray())
            {
                if (!w.HasExited) continue;
                running.Remove(w);
                int code = await run.WaitForSelfExitAsync(w, TimeSpan.FromSeconds(5));
                Assert.True(code == 70, $"pid {w.Pid} exited with {code}, expected 70; last lines:\n  " + string.Join("\n  ", w.Stderr.Snapshot()));
                lines.Add(await WorkerHarness.LogLineAsync(w, exitLine, TimeSpan.FromSeconds(5)));
                Assert.Contains($"job {poison} ledger", lines[^1]);
                running.Add(await run.StartWorkerAsync(all.ToArray()));
            }
            await Task.Delay(100);
        }
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        Assert.Equal(2, lines.Count);
        Assert.Equal("worker_lost: its worker died while running it 2 times", (string?)p.Call("HGET", "{jobd}:job:" + poison, "last_error"));
        return (poison, lines);
    }

    [Fact]
    public async Task P9_a_handler_that_ignores_its_timeout_ends_its_process_until_the_job_is_dead()
    {
        await using var run = await FaultRun.StartAsync("P9");
        var (_, lines) = await PoisonAsync(run, "{\"hang_ms\":600000}", "ignored its cancellation",
            ("JOBD_JOB_TIMEOUT", "1s"), ("JOBD_CANCEL_GRACE", "2s"));
        Assert.Contains("exiting with code 70", lines[0]);
        FaultTable.Record("P9", "a handler that blocks past its 1 s timeout without looking at its cancellation (ledger hang_ms), JOBD_CANCEL_GRACE=2s, JOBD_MAX_RECOVERIES=2",
            "each worker running it logged 'ignored its cancellation … exiting with code 70' and exited; the other worker recovered it; after 2 such exits dead as worker_lost; the 40 other jobs done",
            "I1–I5 hold (I5: exit 70 is the self-kill, not a dependency fault)");
    }

    [Fact]
    public async Task P11_a_handler_that_runs_out_of_memory_ends_its_process_until_the_job_is_dead()
    {
        await using var run = await FaultRun.StartAsync("P11");
        // DOTNET_GCHeapHardLimit is hex: 0x4000000 = 64 MB, honoured by the Native-AOT runtime; the job wants 256 MB.
        var (_, lines) = await PoisonAsync(run, "{\"alloc_mb\":256}", "ran out of memory", ("DOTNET_GCHeapHardLimit", "4000000"));
        Assert.Contains("exiting with code 70", lines[0]);
        FaultTable.Record("P11", "DOTNET_GCHeapHardLimit=4000000 (64 MB) and a handler allocating 256 MB (ledger alloc_mb); JOBD_MAX_RECOVERIES=2",
            "OutOfMemoryException in the handler: 'ran out of memory … exiting with code 70', the job recovered by the other worker, after 2 exits dead as worker_lost; the 40 other jobs done. A cgroup MemoryMax OOM kill is a kill -9 (P1)",
            "I1–I5 hold");
    }
}
