using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// RELIABILITY R12: `jobd run`, `jobd enqueue`, `jobd stats` and `jobd dead list|retry|purge` against a real 3-node
/// Redis Cluster, pointed at a node that does NOT serve the prefix's slot (so every client follows MOVED). Every
/// script runs (enqueue, take, tick, reclaim, dead_retry, dead_purge, cron_fire, outbox_ack, and the outbox's
/// XREADGROUP/XAUTOCLAIM), with no CROSSSLOT or non-local key error; two prefixes on different nodes both work.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(20);
    private RedisCluster _cluster = null!;
    private PostgresTestSchema _pg = null!;

    public async Task InitializeAsync()
    {
        _cluster = await RedisCluster.StartAsync();
        _pg = await TestPostgres.CreateSchemaAsync();
    }

    public async Task DisposeAsync()
    {
        await _pg.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    private (string, string)[] Env(string prefix, params (string, string)[] more)
    {
        var vars = new List<(string, string)>
        {
            ("REDIS_URL", _cluster.NonOwnerOf("{" + prefix + "}").Url()), ("JOBD_PREFIX", prefix),
            ("DATABASE_URL", _pg.Url), ("JOBD_PG_SCHEMA", _pg.Schema), ("JOBD_HEARTBEAT", "500ms"), ("JOBD_LOG_JOBS", "1"),
        };
        vars.AddRange(more);
        return vars.ToArray();
    }

    private static async Task<(int Code, IReadOnlyList<string> Out, IReadOnlyList<string> Err)> Jobd((string, string)[] env, string? stdin, params string[] args)
    {
        await using var p = JobdBinary.Start(args, JobdBinary.Env(env));
        if (stdin is not null) await p.Stdin.WriteAsync(stdin);
        p.Stdin.Close();
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, p.Stdout.Snapshot(), p.Stderr.Snapshot());
    }

    private static async Task<ChildProcess> StartWorkerAsync((string, string)[] env)
    {
        var worker = JobdBinary.Start(["run"], JobdBinary.Env(env));
        await worker.Stderr.WaitAsync(l => l.Contains(" ready: queues", StringComparison.Ordinal), WorkerHarness.Startup, "the worker to be ready");
        return worker;
    }

    private static void AssertNoSlotErrors(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            Assert.DoesNotContain("CROSSSLOT", line);
            Assert.DoesNotContain("non-local", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("MOVED", line);
            Assert.DoesNotContain("redis down", line, StringComparison.OrdinalIgnoreCase);
        }
    }

    private async Task<long> OutcomeRowsAsync() => await _pg.ScalarAsync<long>("select count(*) from outcomes");

    private async Task WaitForRowsAsync(long expected)
    {
        var deadline = DateTime.UtcNow + Quick;
        long seen = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = await OutcomeRowsAsync();
                if (seen >= expected) break;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == "42P01") { } // not migrated yet
            await Task.Delay(50);
        }
        Assert.True(seen >= expected, $"{seen} outcome rows, expected at least {expected}");
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Quick;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("waited for " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>A prefix whose slot another node serves than <paramref name="other"/>'s.</summary>
    private string PrefixOnAnotherNode(string other)
    {
        var owner = _cluster.OwnerOf("{" + other + "}");
        for (int i = 0; ; i++)
            if (!ReferenceEquals(_cluster.OwnerOf("{app" + i + "}"), owner)) return "app" + i;
    }

    [Fact]
    public async Task Every_script_runs_on_a_cluster_through_a_node_that_does_not_serve_the_slot()
    {
        var env = Env("jobd", ("JOBD_QUEUES", "default,cronq"), ("JOBD_CRON_TICK", "* * * * * * noop {\"from\": \"cron\"} queue=cronq"));
        var worker = await StartWorkerAsync(env);
        try
        {
            // enqueue (pipelined script), take, a delayed job and a retry (tick), a job that dies (dead list/retry/purge).
            var (code, ids, err) = await Jobd(env, WorkerHarness.Lines(20, "{\"type\":\"noop\"}")
                + "{\"type\":\"noop\",\"id\":\"later\",\"in\":\"1200ms\"}\n"
                + "{\"type\":\"fail\",\"id\":\"flaky\",\"args\":{\"retry_after_ms\":100,\"succeed_on_attempt\":2}}\n"
                + "{\"type\":\"fail\",\"id\":\"doomed\",\"args\":{\"permanent\":true,\"message\":\"bad\"}}\n", "enqueue", "--batch");
            Assert.True(code == 0, string.Join("\n", err));
            Assert.Equal(23, ids.Count);
            foreach (var id in ids.Take(20)) await WorkerHarness.LogLineAsync(worker, $"job {id} noop done", Quick);
            await WorkerHarness.LogLineAsync(worker, "job later noop done", Quick);
            await WorkerHarness.LogLineAsync(worker, "job flaky fail done", Quick);
            await WorkerHarness.LogLineAsync(worker, "job doomed failed for good", Quick);
            // cron_fire: the per-second schedule fires into cronq, which this worker takes from.
            await WorkerHarness.LogLineAsync(worker, "job cron:TICK:", Quick);
            // outbox XREADGROUP + outbox_ack: every terminal outcome reaches Postgres.
            await WaitForRowsAsync(24);

            var (statsCode, stats, statsErr) = await Jobd(env, null, "stats", "--json");
            Assert.True(statsCode == 0, string.Join("\n", statsErr));
            Assert.Contains("\"dead\"", Assert.Single(stats));

            var (listCode, dead, listErr) = await Jobd(env, null, "dead", "list");
            Assert.True(listCode == 0, string.Join("\n", listErr));
            Assert.Contains(dead, l => l.Contains("doomed", StringComparison.Ordinal));

            // dead_retry puts it back (it dies again: permanent), dead_purge empties the dead set.
            var (retryCode, _, retryErr) = await Jobd(env, null, "dead", "retry", "doomed");
            Assert.True(retryCode == 0, string.Join("\n", retryErr));
            await UntilAsync(() => worker.Stderr.Snapshot().Count(l => l.Contains("job doomed failed for good", StringComparison.Ordinal)) == 2,
                "the retried job to die again");
            var (purgeCode, _, purgeErr) = await Jobd(env, null, "dead", "purge");
            Assert.True(purgeCode == 0, string.Join("\n", purgeErr));
            using (var owner = _cluster.OwnerOf("{jobd}").Probe())
                Assert.Equal(0L, (long)owner.Call("ZCARD", "{jobd}:dead")!);

            // reclaim (and XAUTOCLAIM of the sink) run again on a restart: stop, start, one more job.
            worker.Signal(ChildProcess.SIGTERM);
            Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            AssertNoSlotErrors(worker.Stderr.Snapshot());
            await worker.DisposeAsync();
            worker = await StartWorkerAsync(env);
            var (again, one, againErr) = await Jobd(env, "{\"type\":\"noop\",\"id\":\"after-restart\"}\n", "enqueue", "--batch");
            Assert.True(again == 0, string.Join("\n", againErr));
            await WorkerHarness.LogLineAsync(worker, "job after-restart noop done", Quick);
            AssertNoSlotErrors(err.Concat(statsErr).Concat(listErr).Concat(retryErr).Concat(purgeErr).Concat(againErr));
            AssertNoSlotErrors(worker.Stderr.Snapshot());
        }
        finally
        {
            await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_prefixes_served_by_different_nodes_both_work()
    {
        string second = PrefixOnAnotherNode("jobd");
        Assert.NotSame(_cluster.OwnerOf("{jobd}"), _cluster.OwnerOf("{" + second + "}"));
        await using var first = await StartWorkerAsync(Env("jobd"));
        await using var other = await StartWorkerAsync(Env(second));
        foreach (var (prefix, worker) in new[] { ("jobd", first), (second, other) })
        {
            var (code, ids, err) = await Jobd(Env(prefix), WorkerHarness.Lines(5, "{\"type\":\"noop\"}"), "enqueue", "--batch");
            Assert.True(code == 0, string.Join("\n", err));
            foreach (var id in ids) await WorkerHarness.LogLineAsync(worker, $"job {id} noop done", Quick);
            AssertNoSlotErrors(err);
        }
        using (var p = _cluster.OwnerOf("{" + second + "}").Probe())
            Assert.Equal("5", (string?)p.Call("HGET", "{" + second + "}:stats", "done"));
        AssertNoSlotErrors(first.Stderr.Snapshot());
        AssertNoSlotErrors(other.Stderr.Snapshot());
    }
}
