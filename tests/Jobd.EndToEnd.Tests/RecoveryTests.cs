using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// At-least-once under process faults (RELIABILITY.md P1, P3, P5–P7): a killed worker's job runs again without
/// spending an attempt; a job that keeps killing its worker ends dead; a stop never loses the running job.
/// </summary>
public sealed class RecoveryTests : WorkerTest
{
    // Heartbeat 300 ms: lease 900 ms, so a recovery is due within about 1.2 s of a kill.
    private static readonly (string, string) FastLeases = ("JOBD_HEARTBEAT", "500ms");
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(20);
    [Fact]
    public async Task A_job_whose_worker_is_killed_runs_again_with_its_attempt_unspent()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":1500}}\n"))[0];
        await using (var doomed = await H.StartWorkerAsync(FastLeases))
        {
            await WorkerHarness.LogLineAsync(doomed, $"job {id} sleep started", Recovery);
            doomed.Signal(ChildProcess.SIGKILL);
            await doomed.WaitForExitAsync(TimeSpan.FromSeconds(5));
        }
        Assert.Equal("running", H.Field(id, "state"));
        await using var rescuer = await H.StartWorkerAsync(FastLeases);
        await WorkerHarness.LogLineAsync(rescuer, $"recovered job {id} from worker", Recovery);
        await WorkerHarness.LogLineAsync(rescuer, $"job {id} sleep done", Recovery);
        Assert.Equal("done", H.Field(id, "state"));
        Assert.Equal("1", H.Field(id, "attempt"));
        Assert.Equal("1", H.Field(id, "recoveries"));
    }

    [Fact]
    public async Task A_job_that_kills_its_worker_every_time_ends_dead_and_others_keep_flowing()
    {
        var poison = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":60000}}\n"))[0];
        for (int round = 1; round <= 3; round++)
        {
            await using var w = await H.StartWorkerAsync(FastLeases);
            if (round > 1) await WorkerHarness.LogLineAsync(w, $"recovered job {poison}", Recovery);
            await WorkerHarness.LogLineAsync(w, $"job {poison} sleep started", Recovery);
            w.Signal(ChildProcess.SIGKILL);
            await w.WaitForExitAsync(TimeSpan.FromSeconds(5));
        }
        var ok = (await H.EnqueueAsync("{\"type\":\"noop\"}\n"))[0];
        await using var survivor = await H.StartWorkerAsync(FastLeases);
        await WorkerHarness.LogLineAsync(survivor, $"job {poison} is dead: its worker", Recovery);
        await WorkerHarness.LogLineAsync(survivor, $"job {ok} noop done", Recovery);
        Assert.Equal("dead", H.Field(poison, "state"));
        Assert.Equal("worker_lost: its worker died while running it 3 times", H.Field(poison, "last_error"));
        Assert.Equal("3", H.Field(poison, "recoveries"));
    }

    [Fact]
    public async Task Sigterm_lets_a_short_job_finish_then_exits_0()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":700}}\n"))[0];
        await using var w = await H.StartWorkerAsync(("JOBD_SHUTDOWN_TIMEOUT", "10s"));
        await WorkerHarness.LogLineAsync(w, $"job {id} sleep started", Recovery);
        w.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await w.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("done", H.Field(id, "state"));
    }

    [Fact]
    public async Task Sigterm_past_the_grace_period_puts_the_job_back_unspent()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":60000}}\n"))[0];
        await using var w = await H.StartWorkerAsync(("JOBD_SHUTDOWN_TIMEOUT", "1s"));
        await WorkerHarness.LogLineAsync(w, $"job {id} sleep started", Recovery);
        w.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await w.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("ready", H.Field(id, "state"));
        Assert.Equal("0", H.Field(id, "attempt"));
        using var p = Db.Probe();
        Assert.Equal(id, p.Call("LINDEX", "{jobd}:q:default", "-1"));
        Assert.Equal(0L, p.Call("ZCARD", "{jobd}:leases"));
    }

    [Fact]
    public async Task A_second_signal_puts_the_job_back_at_once()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":60000}}\n"))[0];
        await using var w = await H.StartWorkerAsync(("JOBD_SHUTDOWN_TIMEOUT", "5m"));
        await WorkerHarness.LogLineAsync(w, $"job {id} sleep started", Recovery);
        w.Signal(ChildProcess.SIGTERM);
        await WorkerHarness.LogLineAsync(w, "stopping on SIGTERM", Recovery);
        w.Signal(ChildProcess.SIGINT);
        Assert.Equal(0, await w.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("ready", H.Field(id, "state"));
        Assert.Equal("0", H.Field(id, "attempt"));
    }
}
