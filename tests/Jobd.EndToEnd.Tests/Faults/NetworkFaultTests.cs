using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>Network faults (RELIABILITY.md N1, N3, N4) between workers and Redis, through <see cref="FaultProxy"/>.</summary>
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
}
