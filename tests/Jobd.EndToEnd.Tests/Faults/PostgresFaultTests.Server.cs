using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Testing;
using Npgsql;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>G3 lock, G5 read-only, G6 too many connections: a server that is up but will not take the rows.</summary>
public sealed partial class PostgresFaultTests
{
    [Fact]
    public async Task G3_a_lock_held_past_the_command_timeout_is_timed_out_and_retried_while_jobs_keep_running()
    {
        await using var pg = await StartPostgresAsync();
        await using var run = await FaultRun.StartAsync("G3");
        await run.EnqueueAsync(800, i => (8, 0));
        var w = await run.StartWorkerAsync(Database(pg), ("JOBD_LOG_JOBS", "0"), ("JOBD_PG_COMMAND_TIMEOUT", "1s"));
        await WaitForRowsAsync(pg, 1);
        long during;
        string line;
        await using (var locker = new NpgsqlConnection(pg.ConnectionString("outcomes")))
        {
            await locker.OpenAsync();
            await using var tx = await locker.BeginTransactionAsync();
            await using (var cmd = new NpgsqlCommand("lock table jobd.outcomes", locker, tx)) await cmd.ExecuteNonQueryAsync();
            run.Record(FaultKind.Other, 0, "lock table jobd.outcomes (access exclusive), held by another session");
            line = await WorkerHarness.LogLineAsync(w, "postgres down", Long);
            during = await AssertJobsKeepFinishingAsync(run);
            await tx.RollbackAsync();
        }
        run.Record(FaultKind.Other, 0, "lock released");
        await run.DrainAsync(Long);
        await AssertOneRowPerJobAsync(pg, 800);
        await run.CheckAsync();
        Assert.Equal(1, run.CountLines("postgres down"));
        FaultTable.Record("G3", "another session holds `lock table jobd.outcomes` past JOBD_PG_COMMAND_TIMEOUT=1s (800 jobs, one worker)",
            $"the insert timed out, one line ({Excerpt(line)}), retried with backoff; {during}+ jobs finished meanwhile; exactly 800 rows after the release",
            "I1–I5 hold; no duplicate row");
    }

    [Fact]
    public async Task G5_a_read_only_server_is_an_outage_not_poison()
    {
        await using var pg = await StartPostgresAsync();
        await using var run = await FaultRun.StartAsync("G5");
        await run.EnqueueAsync(800, i => (8, 0));
        var w = await run.StartWorkerAsync(Database(pg), ("JOBD_LOG_JOBS", "0"));
        await WaitForRowsAsync(pg, 1);
        // As after a failover to a standby: every transaction is read-only, the sink's open connection included.
        await AdminAsync(pg, "alter system set default_transaction_read_only = on");
        await AdminAsync(pg, "select pg_reload_conf()");
        run.Record(FaultKind.Other, 0, "default_transaction_read_only=on");
        var line = await WorkerHarness.LogLineAsync(w, "25006", Long);
        long during = await AssertJobsKeepFinishingAsync(run);
        await AdminAsync(pg, "alter system reset default_transaction_read_only");
        await AdminAsync(pg, "select pg_reload_conf()");
        run.Record(FaultKind.Other, 0, "default_transaction_read_only reset");
        await run.DrainAsync(Long);
        await AssertOneRowPerJobAsync(pg, 800); // none stored "minimal": not treated as a refused row
        await run.CheckAsync();
        Assert.Equal(1, run.CountLines("25006"));
        FaultTable.Record("G5", "`alter system set default_transaction_read_only = on` + reload mid-run (800 jobs), reset later",
            $"one line ({Excerpt(line)}), the batch kept and retried with backoff; {during}+ jobs finished meanwhile; exactly 800 full rows after the reset",
            "I1–I5 hold; 25006 an outage, no row stored minimal or skipped");
    }

    [Fact]
    public async Task G6_with_every_connection_slot_taken_the_sink_backs_off_and_never_exceeds_its_pool()
    {
        await using var pg = await StartPostgresAsync("max_connections=5");
        await using var run = await FaultRun.StartAsync("G6");
        await run.EnqueueAsync(600, i => (5, 0));
        var slots = new List<NpgsqlConnection>();
        try
        {
            while (slots.Count < 10)
            {
                var c = new NpgsqlConnection(pg.ConnectionString("outcomes"));
                try { await c.OpenAsync(); }
                catch (PostgresException e) when (e.SqlState == "53300")
                {
                    await c.DisposeAsync();
                    break;
                }
                slots.Add(c);
            }
            Assert.Equal(5, slots.Count);
            run.Record(FaultKind.Other, 0, "all 5 connection slots taken");
            var w = await run.StartWorkerAsync(Database(pg), ("JOBD_LOG_JOBS", "0"), ("JOBD_PG_POOL_MAX", "1"));
            var line = await WorkerHarness.LogLineAsync(w, "postgres down", Long);
            Assert.Contains("53300", line);
            long during = await AssertJobsKeepFinishingAsync(run);
            Assert.Equal(0L, await JobdConnectionsAsync(slots[0]));

            // Free all slots but one, through which the worker's connections are counted while it drains.
            for (int i = slots.Count - 1; i > 0; i--)
            {
                await slots[i].DisposeAsync();
                slots.RemoveAt(i);
            }
            run.Record(FaultKind.Other, 0, "4 slots freed");
            long most = 0;
            var deadline = DateTime.UtcNow + Long;
            while (DateTime.UtcNow < deadline && await RowsOnAsync(slots[0]) < 600)
            {
                most = Math.Max(most, await JobdConnectionsAsync(slots[0]));
                await Task.Delay(20);
            }
            await run.DrainAsync(Long);
            await AssertOneRowPerJobAsync(pg, 600);
            await run.CheckAsync();
            Assert.InRange(most, 0, 1);
            Assert.Equal(1, run.CountLines("postgres down"));
            FaultTable.Record("G6", "max_connections=5, all 5 taken by other sessions before the worker starts (600 jobs), 4 freed later",
                $"one line ({Excerpt(line)}), backoff; {during}+ jobs finished meanwhile; at most {most} jobd connection seen (pool max 1); exactly 600 rows",
                "I1–I5 hold; never more connections than JOBD_PG_POOL_MAX");
        }
        finally
        {
            foreach (var c in slots) await c.DisposeAsync();
        }
    }

    /// <summary>On the "postgres" database, with read-write forced for this session (ALTER SYSTEM under G5's setting).</summary>
    private static async Task AdminAsync(PostgresServer pg, string sql)
    {
        var cs = new NpgsqlConnectionStringBuilder(pg.ConnectionString()) { Options = "-c default_transaction_read_only=off" };
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarOnAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    private static async Task<long> JobdConnectionsAsync(NpgsqlConnection conn) =>
        (long)(await ScalarOnAsync(conn, "select count(*) from pg_stat_activity where application_name like 'jobd:%'"))!;

    private static async Task<long> RowsOnAsync(NpgsqlConnection conn)
    {
        try { return (long)(await ScalarOnAsync(conn, "select count(*) from jobd.outcomes"))!; }
        catch (PostgresException e) when (e.SqlState is "42P01" or "3F000") { return 0; } // not migrated yet
    }

    /// <summary>The gist of a log line for the table: from "postgres" on, at most 140 characters.</summary>
    private static string Excerpt(string line)
    {
        int at = line.IndexOf("postgres", StringComparison.Ordinal);
        var s = at < 0 ? line : line[at..];
        return s.Length <= 140 ? s : s[..140] + "…";
    }
}
