using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>Network faults (RELIABILITY.md N1–N5, N7) between workers and Redis, through <see cref="FaultProxy"/>.</summary>
public sealed class NetworkFaultTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    private static async Task<(FaultRun Run, FaultProxy Proxy, ChildProcess First)> ProxiedAsync(string scenario, int jobs, int ms)
    {
        var run = await FaultRun.StartAsync(scenario);
        var proxy = new FaultProxy(run.Redis.Host, run.Redis.Port);
        await run.EnqueueAsync(jobs, i => (ms, 0));
        var url = ("REDIS_URL", $"redis://default:{FaultRun.Canary}@127.0.0.1:{proxy.Port}/0");
        var first = await run.StartWorkerAsync(url);
        await run.StartWorkerAsync(url);
        int seen = 0;
        await first.Stderr.WaitAsync(l => l.Contains(" done", StringComparison.Ordinal) && ++seen >= 30, Drain, "30 jobs done");
        return (run, proxy, first);
    }

    [Fact]
    public async Task N1_a_silent_redis_is_timed_out_and_reconnected_after_it_answers_again()
    {
        var (run, proxy, first) = await ProxiedAsync("N1", 400, 10);
        await using var _ = run;
        await using var __ = proxy;
        run.Record(FaultKind.Other, 0, "blackhole");
        proxy.Mode = ProxyMode.Blackhole;
        await WorkerHarness.LogLineAsync(first, "redis down:", TimeSpan.FromSeconds(30));
        proxy.Mode = ProxyMode.Pass;
        proxy.ResetAll(); // the connections that swallowed bytes are no use any more: as a peer's reboot would
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        FaultTable.Record("N1", "blackhole (connections open, nothing answered) mid-run, healed after 'redis down'",
            $"commands timed out, 'redis down' logged once per worker ({run.CountLines("redis down:")} lines), reconnected; {run.CountLines("recovered job ")} leases that expired meanwhile recovered", "I1–I5 hold");
    }

    [Fact]
    public async Task N3_connections_reset_mid_run_reconnect_without_losing_a_job()
    {
        var (run, proxy, _) = await ProxiedAsync("N3", 400, 5);
        await using var __ = run;
        await using var ___ = proxy;
        run.Record(FaultKind.Other, 0, "reset");
        proxy.Mode = ProxyMode.Reset;
        await Task.Delay(1000);
        proxy.Mode = ProxyMode.Pass;
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        FaultTable.Record("N3", "every connection reset (RST) and refused for 1 s mid-run",
            $"reconnected with backoff ({run.CountLines("redis down:")} down lines); {run.CountLines("reclaimed job ")} lost take replies reclaimed", "I1–I5 hold");
    }

    [Fact]
    public async Task N4_a_slow_link_is_latency_only()
    {
        var (run, proxy, _) = await ProxiedAsync("N4", 200, 0);
        await using var __ = run;
        await using var ___ = proxy;
        proxy.LatencyMs = 100;
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        Assert.Equal(0, run.CountLines("redis down:"));
        Assert.Equal(0, run.CountLines("recovered job "));
        FaultTable.Record("N4", "100 ms added to every chunk each way (userspace proxy; no netem here)",
            "slower only: no timeout, no recovery, no outage logged", "I1–I5 hold");
    }

    /// <summary>
    /// Worker A reaches Redis through the proxy, B directly (the other replica, on the healthy side). A takes one
    /// ledger job of <paramref name="ms"/>; returns when it has started.
    /// </summary>
    private static async Task<(FaultRun Run, FaultProxy Proxy, ChildProcess A, ChildProcess B, string Id)> SplitAsync(
        string scenario, int ms, params (string, string)[] env)
    {
        var run = await FaultRun.StartAsync(scenario);
        var proxy = new FaultProxy(run.Redis.Host, run.Redis.Port);
        var viaProxy = new System.Collections.Generic.List<(string, string)>(env) { ("REDIS_URL", $"redis://default:{FaultRun.Canary}@127.0.0.1:{proxy.Port}/0") };
        var a = await run.StartWorkerAsync(viaProxy.ToArray());
        var id = (await run.EnqueueAsync(1, _ => (ms, 0)))[0];
        await WorkerHarness.LogLineAsync(a, $"job {id} ledger started", Drain);
        var b = await run.StartWorkerAsync(env);
        return (run, proxy, a, b, id);
    }

    [Fact]
    public async Task N2_an_ack_lost_in_a_blackhole_past_the_lease_is_retried_and_fenced()
    {
        var (run, proxy, a, b, id) = await SplitAsync("N2", 3000);
        await using var _ = run;
        await using var __ = proxy;
        // A's handler returns about 1.5 s later: its settlement goes into the blackhole. Heal after the lease (1.5 s).
        await Task.Delay(1500);
        run.Record(FaultKind.Partition, a.Pid, "blackhole between pid " + a.Pid + " and Redis before its ack");
        proxy.Mode = ProxyMode.Blackhole;
        await WorkerHarness.LogLineAsync(b, $"recovered job {id} from worker", Drain);
        await WorkerHarness.LogLineAsync(a, $"job {id} ledger done", Drain);
        await Task.Delay(1500);
        run.Record(FaultKind.Heal, a.Pid, "blackhole healed");
        proxy.Mode = ProxyMode.Pass;
        proxy.ResetAll();
        await WorkerHarness.LogLineAsync(a, $"lease lost: job {id}", Drain);
        await run.DrainAsync(Drain);
        var c = await run.CheckAsync();
        Assert.Equal(2, Ledger.Read(run.LedgerDir).Count);
        Assert.Equal(1, c.I3Checked);
        FaultTable.Record("N2", "blackhole (proxy swallows both ways) between one worker and Redis while its handler returns; healed 3 s later (lease 1.5 s); a second worker on a direct link",
            "the ack went into the void; the lease expired and the other worker recovered and reran the job; after the heal the first worker reconnected, sent its settlement again and it was refused by token ('lease lost')",
            "I1–I5 hold; one accepted outcome");
    }

    [Fact]
    public async Task N2_an_ack_lost_in_a_blackhole_shorter_than_the_lease_is_retried_and_accepted()
    {
        // Heartbeat 2 s: lease 6 s, far beyond the 1 s blackhole.
        var (run, proxy, a, _, id) = await SplitAsync("N2-short", 1500, ("JOBD_HEARTBEAT", "2s"));
        await using var __ = run;
        await using var ___ = proxy;
        await Task.Delay(1000);
        run.Record(FaultKind.Other, a.Pid, "blackhole");
        proxy.Mode = ProxyMode.Blackhole;
        await WorkerHarness.LogLineAsync(a, $"job {id} ledger done", Drain);
        await Task.Delay(500);
        proxy.Mode = ProxyMode.Pass;
        proxy.ResetAll();
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        Assert.Single(Ledger.Read(run.LedgerDir));
        Assert.Equal(0, run.CountLines("recovered job "));
        Assert.Equal(0, run.CountLines("lease lost"));
        FaultTable.Record("N2b", "blackhole while the handler returns, healed within the lease (1 s; lease 6 s)",
            "the settlement was sent again on a new connection (after the reclaim, which keeps the job being settled) and accepted: one run, no recovery",
            "I1–I5 hold; one run");
    }

    [Fact]
    public async Task N5_a_worker_partitioned_past_its_lease_is_replaced_within_the_bound_and_fenced()
    {
        var (run, proxy, a, b, id) = await SplitAsync("N5", 4000);
        await using var _ = run;
        await using var __ = proxy;
        run.Record(FaultKind.Partition, a.Pid, "partition of pid " + a.Pid + " from Redis past its lease");
        proxy.Mode = ProxyMode.Blackhole;
        // Cut off until its lease has expired and the job was recovered (about 1.5 s), then 2 s more.
        await WorkerHarness.LogLineAsync(b, $"recovered job {id} from worker", Drain);
        await Task.Delay(2000);
        run.Record(FaultKind.Heal, a.Pid, "partition healed");
        proxy.Mode = ProxyMode.Pass;
        proxy.ResetAll();
        await WorkerHarness.LogLineAsync(a, $"lease lost: job {id}", Drain);
        await run.DrainAsync(Drain);
        var c = await run.CheckAsync();
        Assert.Equal(1, c.I3Checked);
        var runs = Ledger.Read(run.LedgerDir);
        Assert.Equal(2, runs.Count);
        Assert.True(runs[0].Pid != runs[1].Pid);
        long rerunAfter = Math.Max(runs[0].StartMs, runs[1].StartMs) - Math.Min(runs[0].StartMs, runs[1].StartMs);
        FaultTable.Record("N5", "one worker cut off from Redis (blackhole) while it runs a 4 s job, until 2 s after its lease (1.5 s) expired and the job was recovered; a second worker on a direct link",
            $"the other worker recovered and reran it {rerunAfter} ms after the first run started (within I3); the cut-off worker finished, reconnected after the heal, and its outcome was refused by token ('lease lost'). It does not abort at local lease expiry: fencing makes its outcome harmless",
            "I1–I5 hold; one accepted outcome");
    }

    [FactWhenTmpfsMounts] // the same privilege (CAP_SYS_ADMIN) as the private mount namespace below
    public async Task N7_an_unresolvable_redis_host_is_an_outage_named_once_not_a_config_error_and_heals_when_it_resolves()
    {
        await using var run = await FaultRun.StartAsync("N7");
        const string host = "jobd-n7-redis.invalid";
        // jobd's own /etc/hosts (bind-mounted in a private mount namespace): the name resolves once the test adds it.
        var hosts = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "jobd-n7-hosts-" + Guid.NewGuid().ToString("N"));
        await System.IO.File.WriteAllTextAsync(hosts, "127.0.0.1 localhost\n");
        try
        {
            var env = JobdBinary.Env(run.WorkerEnv(("REDIS_URL", $"redis://default:{FaultRun.Canary}@{host}:{run.Redis.Port}/0")));
            env["HOSTS"] = hosts;
            env["JOBD"] = JobdBinary.Path;
            var w = ChildProcess.Start("/usr/bin/unshare", new[] { "-m", "/bin/sh", "-c", "mount --bind \"$HOSTS\" /etc/hosts && exec \"$JOBD\" run" }, env);
            run.Track(w);
            var down = await WorkerHarness.LogLineAsync(w, "redis down:", Drain);
            Assert.Contains($"cannot connect to {host}:{run.Redis.Port}", down);
            await Task.Delay(3000); // retrying with backoff meanwhile
            Assert.False(w.HasExited, "jobd exited on an unresolvable host");
            Assert.Equal(1, run.CountLines("redis down:"));

            // Rewritten in place (same inode, so the bind mount sees it): the name resolves now.
            await using (var f = new System.IO.FileStream(hosts, System.IO.FileMode.Truncate, System.IO.FileAccess.Write))
                await f.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"127.0.0.1 localhost {host}\n"));
            await WorkerHarness.LogLineAsync(w, " ready: queues", Drain);
            await run.EnqueueAsync(50, i => (i % 3, 0));
            await run.DrainAsync(Drain);
            await run.CheckAsync();
            FaultTable.Record("N7", $"REDIS_URL host {host} unresolvable at start (jobd's own /etc/hosts in a private mount namespace), added to it 3 s later",
                $"one line '{down[(down.IndexOf("redis down", StringComparison.Ordinal))..].Replace(":" + run.Redis.Port, ":PORT", StringComparison.Ordinal)}', backoff, no exit (not mistaken for a configuration error, exit 78); connected and ready once the name resolved, then ran 50 jobs",
                "I1–I5 hold");
        }
        finally
        {
            System.IO.File.Delete(hosts);
        }
    }
}
