using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>Redis faults (RELIABILITY.md R1, R3–R6, R10, R13) injected mid-run into two workers, then the ledger checker.</summary>
public sealed class RedisFaultTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    /// <summary>Two workers, 600 short jobs; the fault is injected once a quarter of them are done.</summary>
    private static async Task<FaultRun> MidRunAsync(string scenario, Func<FaultRun, Task> fault, params (string, string)[] env)
    {
        var run = await FaultRun.StartAsync(scenario);
        try
        {
            await run.EnqueueAsync(600, i => (i % 3, 0));
            var a = await run.StartWorkerAsync(env);
            await run.StartWorkerAsync(env);
            int seen = 0;
            await a.Stderr.WaitAsync(l => l.Contains(" done", StringComparison.Ordinal) && ++seen >= 100, Drain, "100 jobs done");
            await fault(run);
            await run.DrainAsync(Drain);
            await run.CheckAsync();
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task R1_redis_killed_and_restarted_from_aof_mid_run()
    {
        await using var run = await MidRunAsync("R1", r => r.RestartRedisAsync());
        Assert.InRange(run.CountLines("redis down:"), 1, 2);
        Assert.True(run.CountLines("redis up:") >= run.CountLines("redis down:"), "every 'redis down' is followed by 'redis up'");
        FaultTable.Record("R1", "kill -9 of Redis, restart from AOF (always) mid-run",
            "each worker logged 'redis down' once and 'redis up' once, reconnected, finished every job", "I1–I5 hold");
    }

    [Fact]
    public async Task R3_script_flush_mid_run_costs_no_job()
    {
        await using var run = await MidRunAsync("R3", async r =>
        {
            for (int i = 0; i < 3; i++)
            {
                r.RedisCommand(FaultKind.Other, "SCRIPT", "FLUSH");
                await Task.Delay(100);
            }
        });
        Assert.Equal(0, run.CountLines("redis down:"));
        FaultTable.Record("R3", "SCRIPT FLUSH three times mid-run", "NOSCRIPT answered by EVAL fallback; no error, no outage logged", "I1–I5 hold");
    }

    [Fact]
    public async Task R4_client_kill_of_every_connection_mid_run()
    {
        await using var run = await MidRunAsync("R4", async r =>
        {
            r.RedisCommand(FaultKind.RedisClientKill, "CLIENT", "KILL", "TYPE", "normal");
            await Task.Delay(300);
            r.RedisCommand(FaultKind.RedisClientKill, "CLIENT", "KILL", "TYPE", "normal");
        });
        FaultTable.Record("R4", "CLIENT KILL TYPE normal, twice, mid-run",
            $"reconnected ({run.CountLines("redis down:")} down / {run.CountLines("redis up:")} up lines over 2 workers); {run.CountLines("reclaimed job ")} lost take replies reclaimed", "I1–I5 hold");
    }

    [Theory]
    [InlineData("R5", "ALL")]
    [InlineData("R6", "WRITE")]
    public async Task R5_R6_a_pause_shorter_than_the_lease_recovers_nothing(string row, string mode)
    {
        // Heartbeat 2 s: lease 6 s, twice the 3 s pause.
        await using var run = await MidRunAsync(row, r =>
        {
            r.RedisCommand(FaultKind.Other, "CLIENT", "PAUSE", "3000", mode);
            return Task.Delay(3500);
        }, ("JOBD_HEARTBEAT", "2s"));
        Assert.Equal(0, run.CountLines("recovered job "));
        Assert.Equal(0, run.CountLines("lease lost"));
        using var p = run.Probe();
        Assert.Null(p.Call("HGET", "{jobd}:stats", "recovered"));
        FaultTable.Record(row, $"CLIENT PAUSE 3000 {mode} (lease 6 s)", "latency only: no recovery, no lease lost, no job error", "I1–I5 hold");
    }

    [Fact]
    public async Task R10_memory_full_settles_jobs_in_flight_and_resumes_when_memory_is_back()
    {
        await using var run = await FaultRun.StartAsync("R10");
        await run.EnqueueAsync(300, i => (20, 0));
        var w = await run.StartWorkerAsync();
        await w.Stderr.WaitAsync(l => l.Contains("ledger done", StringComparison.Ordinal), Drain, "a job done");
        run.RedisCommand(FaultKind.Other, "CONFIG", "SET", "maxmemory", "1");
        using (var p = run.Probe())
        {
            var oom = Assert.Throws<InvalidOperationException>(() => p.Call("LPUSH", "{jobd}:probe", "x"));
            Assert.Contains("OOM", oom.Message);
        }
        int doneBefore = run.CountLines("ledger done");
        await Task.Delay(2000);
        int doneDuring = run.CountLines("ledger done") - doneBefore;
        run.RedisCommand(FaultKind.Other, "CONFIG", "SET", "maxmemory", "0");
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        FaultTable.Record("R10", "maxmemory below use (noeviction) for 2 s mid-run",
            $"allow-oom take/settle kept working ({doneDuring} jobs done while writes were refused); nothing lost", "I1–I5 hold");
    }

    [Fact]
    public async Task R13_a_least_privilege_acl_user_runs_everything()
    {
        await using var run = await FaultRun.StartAsync("R13");
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "jobd", "on", ">" + FaultRun.Canary, "~{jobd}:*", "-@all", "+@list", "+@sortedset",
            "+@hash", "+@string", "+@keyspace", "+@scripting", "-@dangerous", "-script|flush", "+ping", "+info", "+client|setname",
            "+@stream", "+time");
        await run.EnqueueAsync(300, i => (i % 2, i % 10 == 0 ? 2 : 0));
        var url = ("REDIS_URL", $"redis://jobd:{FaultRun.Canary}@{run.Redis.Host}:{run.Redis.Port}/0");
        await run.StartWorkerAsync(url);
        await run.StartWorkerAsync(url);
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        Assert.Equal(0, run.CountLines("NOPERM"));
        FaultTable.Record("R13", "least-privilege ACL user (~{jobd}:* -@all +@list +@sortedset +@hash +@string +@keyspace +@scripting +@stream -@dangerous -script|flush +ping +info +time +client|setname)",
            "ran 300 jobs with retries, no NOPERM", "I1–I5 hold");
    }

    [Fact]
    public async Task R6_a_settlement_timed_out_by_a_write_pause_is_kept_not_rerun()
    {
        // The finished job's take (settle + next) waits in a 6 s write pause, past jobd's 5 s command timeout: the
        // connection is dropped with the settlement unsent or unanswered. The reclaim after reconnecting must keep
        // the job this worker is about to settle (heartbeat 5 s: lease 15 s, so no recovery either).
        await using var run = await FaultRun.StartAsync("R6-timeout");
        var id = (await run.EnqueueAsync(1, _ => (1000, 0)))[0];
        var w = await run.StartWorkerAsync(("JOBD_HEARTBEAT", "5s"));
        await WorkerHarness.LogLineAsync(w, $"job {id} ledger started", Drain);
        run.RedisCommand(FaultKind.Other, "CLIENT", "PAUSE", "6500", "WRITE");
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        Assert.Single(Ledger.Read(run.LedgerDir));
        Assert.Equal(0, run.CountLines("reclaimed job "));
        Assert.Equal(0, run.CountLines("lease lost"));
        FaultTable.Record("R6b", "CLIENT PAUSE 6500 WRITE while a finished job settles (past the 5 s command timeout)",
            "connection dropped and re-made; the reclaim keeps the job being settled; settled once, not rerun", "I1–I5 hold; one run");
    }

    [Fact]
    public async Task R9_a_worker_pointed_at_a_replica_says_so_once_and_works_once_it_is_promoted()
    {
        await using var primary = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync("R9", 0, "--replicaof", primary.Host, primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--repl-diskless-sync-delay", "0");
        var w = await run.StartWorkerAsync();
        await WorkerHarness.LogLineAsync(w, "answered READONLY: it is a replica now", Drain);
        await Task.Delay(3000); // reconnects meanwhile find a replica (ROLE) and back off
        // One connection per role (loop, ticker): each reports its outage once, and none claims to be up again.
        int down = run.CountLines("answered READONLY");
        Assert.InRange(down, 1, 3);
        Assert.Equal(down, run.CountLines("redis down:"));
        Assert.False(w.HasExited);
        run.RedisCommand(FaultKind.Other, "REPLICAOF", "NO", "ONE");
        await run.EnqueueAsync(200, i => (i % 3, 0));
        await run.DrainAsync(Drain);
        await run.CheckAsync();
        Assert.Equal(down, run.CountLines("answered READONLY"));
        FaultTable.Record("R9", "worker pointed at a read-only replica, which is then promoted (REPLICAOF NO ONE)",
            "READONLY is an outage: one 'redis down: … answered READONLY' line per connection (was: down/up thousands of times a second), reconnects check ROLE and back off; no exit; worked after promotion", "I1–I5 hold");
    }
}
