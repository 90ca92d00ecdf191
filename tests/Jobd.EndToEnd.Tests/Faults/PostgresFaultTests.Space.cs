using System;
using System.IO;
using System.Net.Http;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>G4 disk full (a tablespace on a 1 MB tmpfs) and N6 a partition between the worker and Postgres only.</summary>
public sealed partial class PostgresFaultTests
{
    [FactWhenTmpfsMountable]
    public async Task G4_a_full_disk_is_retried_with_backoff_and_nothing_is_lost_once_space_is_freed()
    {
        var dir = Directory.CreateTempSubdirectory("jobd-pgspace-").FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir);
        try
        {
            // The server runs as `postgres` under root; a tablespace directory must belong to it.
            await RunAsync("chown", "postgres:postgres", dir);
            await using var pg = await StartPostgresAsync();
            await pg.ExecuteAsync($"create tablespace jobd_small location '{dir}'");
            await using var run = await FaultRun.StartAsync("G4");
            var w = await run.StartWorkerAsync(Database(pg), ("JOBD_LOG_JOBS", "0"));
            await WaitForTableAsync(pg);
            await pg.ExecuteAsync("alter table jobd.outcomes set tablespace jobd_small", "outcomes");
            var filler = Path.Combine(dir, "filler");
            long filled = Fill(filler);
            run.Record(FaultKind.Other, 0, "tablespace full");
            await run.EnqueueAsync(300, i => (2, 0));
            var line = await WorkerHarness.LogLineAsync(w, "53100", Long);
            await run.DrainAsync(Long); // every job settled while no row could be written
            using (var p = run.Probe()) Assert.Equal(300L, p.Call("XLEN", "{jobd}:outbox"));
            File.Delete(filler);
            run.Record(FaultKind.Other, 0, "space freed");
            await AssertOneRowPerJobAsync(pg, 300);
            await run.CheckAsync();
            Assert.Equal(1, run.CountLines("53100"));
            FaultTable.Record("G4", "outcomes table in a tablespace on a 1 MB tmpfs, filled to the last byte, 300 jobs, then space freed",
                $"one line ({Excerpt(line)}); all 300 jobs settled meanwhile, their outcomes waiting in the outbox; retried with backoff; exactly 300 rows once {filled / 1024} KB were freed",
                "I1–I5 hold; the server stayed up; nothing lost");
        }
        finally
        {
            await RunAsync("umount", "-l", dir);
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    [Fact]
    public async Task N6_partitioned_from_postgres_only_jobs_run_the_outbox_grows_then_drains_once()
    {
        await using var pg = await StartPostgresAsync();
        await using var proxy = new FaultProxy(pg.Host, pg.Port);
        await using var run = await FaultRun.StartAsync("N6");
        await run.EnqueueAsync(2000, i => (4, 0));
        int port = FreePort.Next();
        var w = await run.StartWorkerAsync(("DATABASE_URL", $"postgres://jobd@127.0.0.1:{proxy.Port}/outcomes?connect_timeout=2"),
            ("JOBD_PG_COMMAND_TIMEOUT", "2s"), ("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"), ("JOBD_LOG_JOBS", "0"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        async Task<long> OutboxMetricAsync() =>
            (long)PrometheusText.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics")).Value("jobd_outbox_length");
        await WaitForRowsAsync(pg, 1);

        proxy.Mode = ProxyMode.Blackhole;
        run.Record(FaultKind.Other, 0, "blackhole between the worker and Postgres");
        var line = await WorkerHarness.LogLineAsync(w, "postgres down", Long);
        long during = await AssertJobsKeepFinishingAsync(run, 200);
        long peak = await Eventually.ReachesAsync(OutboxMetricAsync, 200, Long);
        Assert.True(peak >= 200, $"the outbox metric rose only to {peak}");

        proxy.Mode = ProxyMode.Pass;
        proxy.ResetAll(); // connections that swallowed bytes are no use any more, as after a route comes back
        run.Record(FaultKind.Other, 0, "healed");
        await WorkerHarness.LogLineAsync(w, "postgres up", Long);
        await run.DrainAsync(Long);
        await AssertOneRowPerJobAsync(pg, 2000);
        long after = -await Eventually.ReachesAsync(async () => -await OutboxMetricAsync(), 0, Long);
        Assert.Equal(0L, after);
        await run.CheckAsync();
        Assert.Equal(1, run.CountLines("postgres down"));
        FaultTable.Record("N6", "blackhole (connections open, nothing answered) between the worker and Postgres only, mid-run (2,000 jobs), healed later",
            $"one line ({Excerpt(line)}); {during}+ jobs finished meanwhile; jobd_outbox_length rose to {peak}+, fell to 0 after the heal; exactly 2,000 rows",
            "I1–I5 hold; outcomes buffered in the Redis outbox, none lost or doubled");
    }

    private static async Task WaitForTableAsync(PostgresServer pg)
    {
        long seen = await Eventually.ReachesAsync(async () =>
            (long)(await ScalarAsync(pg, "select count(*) from information_schema.tables where table_schema = 'jobd' and table_name = 'outcomes'"))!, 1, Long);
        Assert.Equal(1L, seen);
    }

    /// <summary>Writes zeros until the file system is full; returns the bytes written.</summary>
    private static long Fill(string path)
    {
        var chunk = new byte[4096];
        long written = 0;
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                f.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            return written; // ENOSPC
        }
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        await using var p = ChildProcess.Start(program, args);
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(30));
        if (code != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {code}: {string.Join("\n", p.Stderr.Snapshot())}");
    }
}
