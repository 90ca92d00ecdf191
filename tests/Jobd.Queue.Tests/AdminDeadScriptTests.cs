using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Queue.Admin;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>dead_retry.lua and dead_purge.lua (through <see cref="DeadJobs"/>) against a real redis-server: seed, run, want.</summary>
public sealed class AdminDeadScriptTests : RedisTest
{

    /// <summary>A dead job as take.lua leaves it: dead state, a TTL, an entry in the dead set scored by its death.</summary>
    private void SeedDead(RedisProbe p, string id, string queue, long diedAt, string unique = "")
    {
        p.Call("HSET", "{jobd}:job:" + id, "type", "t", "queue", queue, "args", "{}", "state", "dead", "attempt", "3",
            "max_attempts", "3", "recoveries", "1", "unique", unique, "last_error", "boom " + id, "finished_at", diedAt.ToString());
        p.Call("PEXPIRE", "{jobd}:job:" + id, "604800000");
        p.Call("ZADD", "{jobd}:dead", diedAt.ToString(), id);
    }

    [Fact]
    public async Task Retry_of_one_id_makes_it_ready_resets_attempts_keeps_the_error_and_drops_the_ttl()
    {
        using (var p = Db.Probe())
        {
            SeedDead(p, "a", "default", 1000, unique: "u1");
            SeedDead(p, "b", "default", 2000);
        }

        long moved = await new DeadJobs(Redis, Keys).RetryAsync(new[] { "a" });

        Assert.Equal(1, moved);
        using var probe = Db.Probe();
        Assert.Equal("ready", probe.Call("HGET", "{jobd}:job:a", "state"));
        Assert.Equal("0", probe.Call("HGET", "{jobd}:job:a", "attempt"));
        Assert.Equal("0", probe.Call("HGET", "{jobd}:job:a", "recoveries"));
        Assert.Equal("boom a", probe.Call("HGET", "{jobd}:job:a", "last_error"));
        Assert.Equal(-1L, probe.Call("PTTL", "{jobd}:job:a"));
        Assert.Equal("a", probe.Call("LINDEX", "{jobd}:q:default", "0"));
        Assert.Equal(1L, probe.Call("LLEN", "{jobd}:wake:default"));
        Assert.Null(probe.Call("ZSCORE", "{jobd}:dead", "a"));
        Assert.NotNull(probe.Call("ZSCORE", "{jobd}:dead", "b"));
        Assert.Equal("a", probe.Call("GET", "{jobd}:unique:u1"));
    }

    [Fact]
    public async Task Retry_leaves_a_unique_key_another_job_holds()
    {
        using (var p = Db.Probe())
        {
            SeedDead(p, "a", "default", 1000, unique: "u1");
            p.Call("SET", "{jobd}:unique:u1", "other");
        }
        Assert.Equal(1, await new DeadJobs(Redis, Keys).RetryAsync(new[] { "a" }));
        using var probe = Db.Probe();
        Assert.Equal("other", probe.Call("GET", "{jobd}:unique:u1"));
        Assert.Equal("ready", probe.Call("HGET", "{jobd}:job:a", "state"));
    }

    [Fact]
    public async Task Retry_of_a_job_that_is_not_dead_or_missing_moves_nothing()
    {
        using (var p = Db.Probe()) p.Call("HSET", "{jobd}:job:r", "state", "running", "queue", "default");
        var dead = new DeadJobs(Redis, Keys);
        Assert.Equal(0, await dead.RetryAsync(new[] { "r" }));
        Assert.Equal(0, await dead.RetryAsync(new[] { "nope" }));
        using var probe = Db.Probe();
        Assert.Equal("running", probe.Call("HGET", "{jobd}:job:r", "state"));
        Assert.Equal(0L, probe.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task Retry_all_with_a_queue_filter_crosses_batches_and_leaves_other_queues_dead()
    {
        // More than two batches of each queue, interleaved, so that the offset must skip the kept entries.
        int each = DeadJobs.Batch + DeadJobs.Batch / 2 + 7;
        using (var p = Db.Probe())
        {
            for (int i = 0; i < each; i++)
            {
                SeedDead(p, "x" + i, "critical", 10 + 2 * i);
                SeedDead(p, "y" + i, "low", 11 + 2 * i);
            }
            p.Call("ZADD", "{jobd}:dead", "1", "expired"); // its hash is gone
        }

        long moved = await new DeadJobs(Redis, Keys).RetryAllAsync("critical");

        Assert.Equal(each, moved);
        using var probe = Db.Probe();
        Assert.Equal((long)each, probe.Call("LLEN", "{jobd}:q:critical"));
        Assert.Equal((long)each, probe.Call("ZCARD", "{jobd}:dead"));
        Assert.Equal("dead", probe.Call("HGET", "{jobd}:job:y0", "state"));
        Assert.Equal((long)each, probe.Call("LLEN", "{jobd}:wake:critical"));
        Assert.Equal(each, await new DeadJobs(Redis, Keys).RetryAllAsync(null));
        Assert.Equal(0L, probe.Call("ZCARD", "{jobd}:dead"));
    }

    [Fact]
    public async Task Purge_deletes_hash_and_entry_in_batches_and_honours_the_queue()
    {
        int each = DeadJobs.Batch + 3;
        using (var p = Db.Probe())
        {
            for (int i = 0; i < each; i++)
            {
                SeedDead(p, "x" + i, "critical", 10 + 2 * i);
                SeedDead(p, "y" + i, "low", 11 + 2 * i);
            }
        }
        var dead = new DeadJobs(Redis, Keys);

        Assert.Equal(each, await dead.PurgeAsync("low"));
        using var probe = Db.Probe();
        Assert.Equal(0L, probe.Call("EXISTS", "{jobd}:job:y0"));
        Assert.Equal(1L, probe.Call("EXISTS", "{jobd}:job:x0"));
        Assert.Equal((long)each, probe.Call("ZCARD", "{jobd}:dead"));

        Assert.Equal(each, await dead.PurgeAsync(null));
        Assert.Equal(0L, probe.Call("ZCARD", "{jobd}:dead"));
        Assert.Equal(0L, probe.Call("EXISTS", "{jobd}:job:x" + (each - 1)));
    }

    [Fact]
    public async Task List_is_newest_first_filters_by_queue_and_respects_the_limit()
    {
        using (var p = Db.Probe())
        {
            SeedDead(p, "old", "critical", 1000);
            SeedDead(p, "mid", "low", 2000);
            SeedDead(p, "new", "critical", 3000);
        }
        var dead = new DeadJobs(Redis, Keys);
        var all = await dead.ListAsync(null, 50);
        Assert.Equal(new[] { "new", "mid", "old" }, Ids(all));
        Assert.Equal("boom new", all[0].LastError);
        Assert.Equal(3000, all[0].DiedAt);
        Assert.Equal(new[] { "new", "old" }, Ids(await dead.ListAsync("critical", 50)));
        Assert.Equal(new[] { "new" }, Ids(await dead.ListAsync(null, 1)));
    }

    private static string[] Ids(List<DeadJob> jobs)
    {
        var ids = new string[jobs.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = jobs[i].Id;
        return ids;
    }
}
