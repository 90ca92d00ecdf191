using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Outcomes;

/// <summary>
/// Outbox entries pending under a consumer that never saw them (a worker killed mid-batch, a read whose reply was
/// lost) always reach Postgres: they are claimed under steady load too, and a stopping worker does not delete them
/// by leaving the consumer group. The entries are written into Redis by the test, as a lost reply leaves them.
/// </summary>
public sealed class OutboxClaimTests : OutcomeTestBase
{
    private const string Outbox = "{jobd}:outbox";

    /// <summary>Appends count outcomes with ids prefix-1..count, in one call (a script, so no worker reads between).</summary>
    private void AddOutcomes(string prefix, int count, string? readAs = null)
    {
        const string script = """
            local now = redis.call('TIME')[1] * 1000
            for i = 1, tonumber(ARGV[2]) do
              redis.call('XADD', KEYS[1], '*', 'id', ARGV[1] .. i, 'seq', '1', 'attempt', '1', 'max_attempts', '25',
                'type', 'noop', 'queue', 'default', 'state', 'succeeded', 'recoveries', '0', 'args', '{}', 'text', '',
                'enqueued_at', now, 'started_at', now, 'finished_at', now, 'worker', 'test')
            end
            if ARGV[3] ~= '' then
              return redis.call('XREADGROUP', 'GROUP', 'sink', ARGV[3], 'COUNT', ARGV[2], 'STREAMS', KEYS[1], '>')
            end
            return 0
            """;
        using var p = Db.Probe();
        p.Call("EVAL", script, "1", Outbox, prefix, count.ToString(), readAs ?? "");
    }

    private void CreateGroup()
    {
        using var p = Db.Probe();
        try { p.Call("XGROUP", "CREATE", Outbox, "sink", "0", "MKSTREAM"); }
        catch (InvalidOperationException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal)) { }
    }

    /// <summary>The id of the one worker running, once its first control tick has listed it.</summary>
    private async Task<string> OnlyWorkerIdAsync()
    {
        long listed = await Eventually.ReachesAsync(() => Task.FromResult(H.Count("ZCARD", "{jobd}:workers")), 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1L, listed);
        using var p = Db.Probe();
        return (string)((object?[])p.Call("ZRANGE", "{jobd}:workers", "0", "-1")!)[0]!;
    }

    [Fact]
    public async Task A_dead_consumers_entries_are_claimed_while_new_outcomes_keep_coming()
    {
        CreateGroup();
        AddOutcomes("orphan-", 20, readAs: "jobd:dead-worker:1:aaaaaa");
        using (var p = Db.Probe())
        {
            // As if read an hour ago by a worker that died: claimable at once.
            var pending = (object?[])p.Call("XPENDING", Outbox, "sink", "-", "+", "20")!;
            var args = new System.Collections.Generic.List<string> { "XCLAIM", Outbox, "sink", "jobd:dead-worker:1:aaaaaa", "0" };
            foreach (object? entry in pending) args.Add((string)((object?[])entry!)[0]!);
            args.AddRange(new[] { "IDLE", "3600000", "JUSTID" });
            p.Call(args.ToArray());
        }
        AddOutcomes("fresh-", 5000); // ten full batches: a read never comes back empty before they are drained

        await using var worker = await H.StartWorkerAsync(PgEnv());
        await WaitForRowsAsync(5020, TimeSpan.FromSeconds(60));
        // Claimed before the new entries ran out, not in the last batch after them.
        var orphansLast = await Pg.ScalarAsync<DateTime>("select max(recorded_at) from outcomes where job_id like 'orphan-%'");
        var freshLast = await Pg.ScalarAsync<DateTime>("select max(recorded_at) from outcomes where job_id like 'fresh-%'");
        Assert.True(orphansLast < freshLast, $"orphans written at {orphansLast:O}, after the last fresh batch {freshLast:O}");
        Assert.Equal(20L, await RowsAsync("job_id like 'orphan-%'"));
    }

    [Fact]
    public async Task A_stopping_worker_leaves_entries_pending_under_its_name_for_another_to_claim()
    {
        await using (var a = await H.StartWorkerAsync(PgEnv()))
        {
            CreateGroup();
            // Read under a's name, but a never got the reply: a lost XREADGROUP reply, exactly.
            AddOutcomes("lost-", 3, readAs: await OnlyWorkerIdAsync());
            a.Signal(ChildProcess.SIGTERM);
            Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        using (var p = Db.Probe())
        {
            var summary = (object?[])p.Call("XPENDING", Outbox, "sink")!;
            Assert.Equal(3L, summary[0]); // still pending (XGROUP DELCONSUMER would have dropped them for good)
        }

        // b takes them over once idle for max(3 heartbeats, command timeout + 5 s) = 6 s.
        var env = new System.Collections.Generic.List<(string, string)>(PgEnv()) { ("JOBD_PG_COMMAND_TIMEOUT", "1s") };
        await using var b = await H.StartWorkerAsync(env.ToArray());
        await WaitForRowsAsync(3, TimeSpan.FromSeconds(60), "job_id like 'lost-%'");
        long left = await Eventually.ReachesAsync(() =>
        {
            using var p = Db.Probe();
            return Task.FromResult(-(long)p.Call("XLEN", Outbox)!);
        }, 0, TimeSpan.FromSeconds(30));
        Assert.Equal(0L, left);
    }
}
