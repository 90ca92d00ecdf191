using System;
using System.Diagnostics;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// RELIABILITY R7: `jobd run` and `jobd enqueue` through a redis+sentinel:// URL (real primary, replica and
/// redis-sentinel). After kill -9 of the primary, the worker follows the promoted replica within the documented
/// bound, reloads its scripts there (NOSCRIPT fallback), and processes jobs enqueued after the failover.
/// </summary>
public sealed class SentinelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(20);
    private RedisSentinelGroup _group = null!;

    public async Task InitializeAsync() => _group = await RedisSentinelGroup.StartAsync();
    public async Task DisposeAsync() => await _group.DisposeAsync();

    [Fact]
    public async Task A_worker_follows_a_primary_failover_and_processes_jobs_enqueued_after_it()
    {
        var url = _group.Url(deadSentinelPort: FreePort.Next());
        var h = new WorkerHarness(url, () => _group.Replica.Probe());
        await using var worker = await h.StartWorkerAsync(("JOBD_HEARTBEAT", "500ms"));
        Assert.Contains(worker.Stderr.Snapshot(), l => l.Contains("redis up", StringComparison.Ordinal)
                                                       && l.Contains("serving: 127.0.0.1:" + _group.Primary.Port, StringComparison.Ordinal));
        foreach (var id in await h.EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"noop\"}")))
            await WorkerHarness.LogLineAsync(worker, $"job {id} noop done", Quick);

        var clock = Stopwatch.StartNew();
        var switched = _group.Sentinel.Stdout.WaitAsync(l => l.Contains("+switch-master", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "+switch-master")
            .ContinueWith(_ => clock.Elapsed, TaskScheduler.Default);
        var followed = worker.Stderr.WaitAsync(l => l.Contains("redis up", StringComparison.Ordinal)
                                                    && l.Contains("serving: 127.0.0.1:" + _group.Replica.Port, StringComparison.Ordinal),
                TimeSpan.FromSeconds(30), "the worker to reach the promoted replica")
            .ContinueWith(t => (t.Result, clock.Elapsed), TaskScheduler.Default);
        await _group.Primary.KillAsync();
        var announced = await switched;
        var (_, reached) = await followed;
        output.WriteLine($"kill -9 -> +switch-master {announced.TotalMilliseconds:0} ms; kill -9 -> worker connected to the new primary {reached.TotalMilliseconds:0} ms");
        // jobd's share of the bound: once the sentinels name the new primary, one backoff step (<= 200 ms) and a connect.
        Assert.True(reached - announced < TimeSpan.FromSeconds(2), $"the worker followed {(reached - announced).TotalMilliseconds:0} ms after +switch-master");

        var after = await h.EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"noop\"}"));
        foreach (var id in after) await WorkerHarness.LogLineAsync(worker, $"job {id} noop done", Quick);
        Assert.Equal("done", h.Field(after[^1], "state"));
        foreach (var line in worker.Stderr.Snapshot())
        {
            Assert.DoesNotContain("READONLY", line); // never surfaced as a job failure
            Assert.DoesNotContain("failed", line);
        }
    }
}
