using System;
using System.Linq;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>The execution loop as users run it: published binary, real redis-server, jobs enqueued with the CLI.</summary>
public sealed class ExecutionLoopTests : WorkerTest
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(60);
    [Theory]
    [InlineData(2, 3000)]
    [InlineData(5, 10_000)]
    public async Task Workers_drain_every_job_exactly_once(int workers, int jobs)
    {
        var ids = await H.EnqueueAsync(WorkerHarness.Lines(jobs, "{\"type\":\"noop\"}"));
        var listeners = new NotifySocketListener[workers];
        var processes = new ChildProcess[workers];
        try
        {
            for (int i = 0; i < workers; i++)
            {
                listeners[i] = new NotifySocketListener();
                processes[i] = await H.StartWorkerAsync(("JOBD_LOG_JOBS", "0"), ("NOTIFY_SOCKET", listeners[i].SocketPath));
            }
            // A worker says "idle" only after a take that settled its last job found every queue empty.
            foreach (var l in listeners)
                await l.Lines.WaitAsync(x => x.StartsWith("STATUS=idle", StringComparison.Ordinal), Drain, "a worker to drain");
            using (var p = Db.Probe())
            {
                Assert.Equal(ids.Length.ToString(), p.Call("HGET", "{jobd}:stats", "done"));
                Assert.Equal(0L, p.Call("LLEN", "{jobd}:q:default"));
                Assert.Equal(0L, p.Call("ZCARD", "{jobd}:leases"));
                Assert.Null(p.Call("HGET", "{jobd}:stats", "recovered"));
            }
            foreach (var id in new[] { ids[0], ids[ids.Length / 2], ids[^1] })
            {
                Assert.Equal("done", H.Field(id, "state"));
                Assert.Equal("1", H.Field(id, "attempt"));
            }
            foreach (var w in processes) w.Signal(ChildProcess.SIGTERM);
            foreach (var w in processes) Assert.Equal(0, await w.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            foreach (var w in processes) if (w is not null) await w.DisposeAsync();
            foreach (var l in listeners) if (l is not null) await l.DisposeAsync();
        }
    }

    [Fact]
    public async Task Queues_are_taken_in_strict_priority_order()
    {
        var low = await H.EnqueueAsync(WorkerHarness.Lines(20, "{\"type\":\"noop\",\"queue\":\"low\"}"));
        var high = await H.EnqueueAsync(WorkerHarness.Lines(20, "{\"type\":\"noop\",\"queue\":\"high\"}"));
        await using var w = await H.StartWorkerAsync(("JOBD_QUEUES", "high,low"));
        await WorkerHarness.LogLineAsync(w, $"job {low[^1]} noop done", Drain);
        long lastHigh = 0, firstLow = long.MaxValue;
        foreach (var id in high) lastHigh = Math.Max(lastHigh, H.FieldLong(id, "finished_at"));
        foreach (var id in low) firstLow = Math.Min(firstLow, H.FieldLong(id, "started_at"));
        Assert.True(lastHigh <= firstLow, $"a low job started at {firstLow} before the last high job finished at {lastHigh}");
        var order = w.Stderr.Snapshot();
        int lastHighLine = -1, firstLowLine = int.MaxValue;
        for (int i = 0; i < order.Count; i++)
        {
            if (order[i].Contains("(queue high", StringComparison.Ordinal)) lastHighLine = i;
            if (order[i].Contains("(queue low", StringComparison.Ordinal)) firstLowLine = Math.Min(firstLowLine, i);
        }
        Assert.True(lastHighLine < firstLowLine);
    }

    [Fact]
    public async Task A_failing_job_is_retried_then_succeeds_with_its_attempts_counted()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"fail\",\"args\":{\"message\":\"flaky\",\"retry_after_ms\":100,\"succeed_on_attempt\":3}}\n"))[0];
        await using var w = await H.StartWorkerAsync();
        await WorkerHarness.LogLineAsync(w, $"job {id} fail done", Drain);
        Assert.Equal("done", H.Field(id, "state"));
        Assert.Equal("3", H.Field(id, "attempt"));
        Assert.Equal("flaky", H.Field(id, "last_error"));
        Assert.Equal(2, w.Stderr.Snapshot().Count(l => l.Contains($"job {id} failed, will retry: flaky", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("{\"type\":\"fail\",\"args\":{\"permanent\":true,\"message\":\"card declined\"}}", "card declined")]
    [InlineData("{\"type\":\"no_such_type\"}", "no_route: no handler for type no_such_type")]
    [InlineData("{\"type\":\"sleep\",\"args\":{\"ms\":\"soon\"}}", "malformed args for sleep: $.ms")]
    [InlineData("{\"type\":\"fail\",\"max_attempts\":2,\"args\":{\"retry_after_ms\":50,\"message\":\"down\"}}", "attempts exhausted (2): down")]
    [InlineData("{\"type\":\"sleep\",\"timeout\":\"100ms\",\"max_attempts\":1,\"args\":{\"ms\":60000}}", "attempts exhausted (1): timeout after 0.1s")]
    public async Task Jobs_that_cannot_succeed_go_to_dead_with_their_reason(string job, string reason)
    {
        var id = (await H.EnqueueAsync(job + "\n"))[0];
        await using var w = await H.StartWorkerAsync();
        await WorkerHarness.LogLineAsync(w, $"job {id} failed for good", Drain);
        Assert.Equal("dead", H.Field(id, "state"));
        Assert.Contains(reason, H.Field(id, "last_error"));
        using var p = Db.Probe();
        Assert.NotNull(p.Call("ZSCORE", "{jobd}:dead", id));
        Assert.InRange((long)p.Call("PTTL", "{jobd}:job:" + id)!, 1, (long)TimeSpan.FromDays(7).TotalMilliseconds);
        Assert.False(w.HasExited);
    }

    [Fact]
    public async Task A_delayed_job_waits_for_its_time_then_wakes_an_idle_worker()
    {
        await using var w = await H.StartWorkerAsync();
        var id = (await H.EnqueueAsync("{\"type\":\"noop\",\"in\":\"1500ms\"}\n"))[0];
        Assert.Equal("scheduled", H.Field(id, "state"));
        await WorkerHarness.LogLineAsync(w, $"job {id} noop done", TimeSpan.FromSeconds(15));
        long started = H.FieldLong(id, "started_at"), due = H.FieldLong(id, "run_at");
        Assert.True(started >= due, $"started {started} before due {due}");
    }

    [Fact]
    public async Task A_job_wakes_an_idle_worker_of_its_queue_not_one_serving_other_queues()
    {
        // The worker of queue a waits longest, so a shared wake list would hand it the token and leave the worker
        // of queue b asleep until its 30 s wait ends.
        await using var a = await H.StartWorkerAsync(("JOBD_QUEUES", "a"));
        await using var b = await H.StartWorkerAsync(("JOBD_QUEUES", "b"));
        for (int i = 0; i < 3; i++)
        {
            var id = (await H.EnqueueAsync("{\"type\":\"noop\",\"queue\":\"b\"}\n"))[0];
            await WorkerHarness.LogLineAsync(b, $"job {id} noop done", TimeSpan.FromSeconds(15));
        }
        using var p = Db.Probe();
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:wake:b"));
        Assert.DoesNotContain(a.Stderr.Snapshot(), l => l.Contains(" noop ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_idle_worker_of_other_queues_moves_a_delayed_job_at_its_time()
    {
        // The new earliest scheduled job's token is on {jobd}:wake, which every idle worker waits on: the worker of
        // queue a ticks then, and moves the job at its due time, not at its next idle tick (10 s later).
        await using var a = await H.StartWorkerAsync(("JOBD_QUEUES", "a"));
        await Task.Delay(500); // past its start-up tick: idle, next tick 10 s away
        var id = (await H.EnqueueAsync("{\"type\":\"noop\",\"queue\":\"b\",\"in\":\"1500ms\"}\n"))[0];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(6);
        while (H.Field(id, "state") != "ready" && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal("ready", H.Field(id, "state"));
        Assert.Equal(1L, H.Count("LLEN", "{jobd}:q:b"));
    }

    [Fact]
    public async Task Wake_tokens_left_by_a_backlog_are_dropped_when_its_queues_run_empty()
    {
        await H.EnqueueAsync(WorkerHarness.Lines(50, "{\"type\":\"noop\"}"));
        using var p = Db.Probe();
        Assert.Equal(50L, p.Call("LLEN", "{jobd}:wake:default"));
        await using var w = await H.StartWorkerAsync();
        await WaitForCounterAsync("done", 50, Drain);
        // Taken back to back, the jobs left their tokens; the take that settled the last one found the queue empty
        // and dropped them in the same call.
        Assert.Equal(0L, p.Call("LLEN", "{jobd}:wake:default"));
    }

    [Fact]
    public async Task A_finished_job_releases_its_unique_key_and_expires()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"noop\",\"unique\":\"once\"}\n"))[0];
        await using var w = await H.StartWorkerAsync(("JOBD_DONE_TTL", "1h"));
        await WorkerHarness.LogLineAsync(w, $"job {id} noop done", Drain);
        using var p = Db.Probe();
        Assert.Equal(0L, p.Call("EXISTS", "{jobd}:unique:once"));
        Assert.InRange((long)p.Call("PTTL", "{jobd}:job:" + id)!, 1, 3_600_000);
        var again = (await H.EnqueueAsync("{\"type\":\"noop\",\"unique\":\"once\"}\n"))[0];
        Assert.NotEqual(id, again);
    }
}
