using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Jobd.Testing;
using Npgsql;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md "Secrets never logged (canary test)": recognisable canaries in the Redis password, the Postgres
/// password and both HMAC secrets, while things fail (the Redis password rotated under the workers for a moment,
/// Postgres stopped mid-run, an http route answering 500). No canary may appear in stdout or stderr, `jobd config`,
/// `jobd stats`, `jobd job`, `jobd dead list`, /metrics, job results and dead reasons, or the Postgres rows.
/// </summary>
public sealed class SecretCanaryTests
{
    private const string RedisCanary = "redis-canary-4c1a9e";
    private const string PostgresCanary = "pg-canary-b7d203";
    private const string HttpCanary = "http-canary-0e55f1aa";
    private const string HttpNextCanary = "http-next-canary-91c3";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task S_canary_no_secret_in_any_output_while_redis_auth_postgres_and_http_fail()
    {
        await using var pg = await PostgresServer.StartAsync();
        await pg.ExecuteAsync("create database outcomes");
        await using var http = new TestHttpServer((_, r) => TestHttpServer.Write(r, 500, "upstream exploded"));
        await using var run = await FaultRun.StartAsync("S-canary");
        run.Secrets.AddRange(new[] { RedisCanary, PostgresCanary, HttpCanary, HttpNextCanary });
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "jobd", "on", ">" + RedisCanary, "~*", "&*", "+@all");
        int metricsPort = FreePort.Next();
        var env = new List<(string, string)>
        {
            ("REDIS_URL", $"redis://jobd:{RedisCanary}@{run.Redis.Host}:{run.Redis.Port}/0"),
            ("DATABASE_URL", $"postgres://jobd:{PostgresCanary}@{pg.Host}:{pg.Port}/outcomes"),
            ("JOBD_ROUTE_hook", "http:" + http.Url("/hook")),
            ("JOBD_HTTP_SECRET", HttpCanary), ("JOBD_HTTP_SECRET_NEXT", HttpNextCanary),
        };
        var w = await run.StartWorkerAsync(new List<(string, string)>(env) { ("JOBD_METRICS_ADDR", $"127.0.0.1:{metricsPort}") }.ToArray());
        await run.StartWorkerAsync(env.ToArray());
        var h = new WorkerHarness(run.RedisUrl, run.Probe);
        foreach (var id in await h.EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"hook\",\"args\":{\"n\":1},\"max_attempts\":1}"))) run.Adopt(id);
        await run.EnqueueAsync(200, i => (i % 3, i % 10 == 0 ? 2 : 0));
        await WorkerHarness.LogLineAsync(w, "http 500", Wait);

        // Redis refuses the workers' password for a moment (a rotation gone wrong), then takes it again.
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "jobd", "resetpass", ">rotated-elsewhere-1");
        run.RedisCommand(FaultKind.RedisClientKill, "CLIENT", "KILL", "USER", "jobd");
        await WorkerHarness.LogLineAsync(w, "WRONGPASS", Wait);
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "jobd", "resetpass", ">" + RedisCanary);
        // Postgres goes away mid-run and comes back.
        await pg.StopAsync();
        run.Record(FaultKind.Other, 0, "postgres stopped");
        await run.EnqueueAsync(100, i => (i % 2, 0));
        await w.Stderr.WaitAsync(l => l.Contains("postgres down", StringComparison.Ordinal), Wait, "postgres down line");
        await pg.StartAgainAsync();
        run.Record(FaultKind.Other, 0, "postgres started");
        await run.DrainAsync(Wait);

        var outputs = new List<(string Where, string Text)>();
        using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            outputs.Add(("/metrics", await client.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics")));
        await WaitForRowsAsync(pg, run.Ids.Count);
        await run.CheckAsync(); // the workers' stdout and stderr, against every canary (I4)

        var cli = JobdBinary.Env(env.ToArray());
        foreach (var args in new[]
                 {
                     new[] { "config" }, new[] { "config", "--json" }, new[] { "stats" }, new[] { "stats", "--json" },
                     new[] { "dead", "list", "--json" }, new[] { "job", run.Ids[0] }, new[] { "job", run.Ids[^1], "--json" },
                 })
        {
            await using var p = JobdBinary.Start(args, cli);
            Assert.Equal(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            outputs.Add(("jobd " + string.Join(' ', args), string.Join('\n', p.Stdout.Snapshot()) + '\n' + string.Join('\n', p.Stderr.Snapshot())));
        }
        using (var p = run.Probe())
            foreach (var k in (object?[])p.Call("KEYS", "{jobd}:*")!)
            {
                var key = (string)k!;
                if ((string)p.Call("TYPE", key)! != "hash") continue;
                outputs.Add((key, string.Join('\n', Strings((object?[])p.Call("HGETALL", key)!))));
            }
        outputs.Add(("jobd.outcomes rows", await RowsAsync(pg)));

        int hooks = 0, failedHooks = 0;
        foreach (var (where, text) in outputs)
        {
            foreach (var canary in run.Secrets)
                Assert.False(text.Contains(canary, StringComparison.Ordinal), $"{canary} appears in {where}");
            if (where.StartsWith("{jobd}:job:", StringComparison.Ordinal) && text.Contains("hook", StringComparison.Ordinal)) hooks++;
            if (text.Contains("500", StringComparison.Ordinal) && where.StartsWith("{jobd}:job:", StringComparison.Ordinal)) failedHooks++;
        }
        Assert.Equal(5, hooks);
        Assert.True(failedHooks >= 5, "the http route failures were recorded");
        Assert.Equal(1, CountIn(w.Stderr.Snapshot(), "WRONGPASS"));
        FaultTable.Record("S-canary", "canaries in the Redis password (ACL user), the DATABASE_URL password, JOBD_HTTP_SECRET and JOBD_HTTP_SECRET_NEXT; the password rotated away under the workers and back, Postgres stopped and started, an http route answering 500",
            $"{outputs.Count} outputs searched (two workers' stdout/stderr, /metrics, jobd config/stats/dead list/job in text and JSON, every job hash incl. results and dead reasons, the jobd.outcomes rows): no canary; the loop said once 'redis still down, now refusing jobd: WRONGPASS …' (was: silent behind the first down line)",
            "I1–I5 hold; no secret anywhere");
    }

    private static IEnumerable<string> Strings(object?[] values)
    {
        foreach (var v in values) yield return v as string ?? "";
    }

    private static int CountIn(IReadOnlyList<string> lines, string text)
    {
        int n = 0;
        foreach (var l in lines)
            if (l.Contains(text, StringComparison.Ordinal)) n++;
        return n;
    }

    private static async Task<string> RowsAsync(PostgresServer pg)
    {
        await using var conn = new NpgsqlConnection(pg.ConnectionString("outcomes"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select coalesce(string_agg(o::text, E'\\n'), '') from jobd.outcomes o", conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Every job's final outcome reached Postgres (at least one row per job).</summary>
    private static async Task WaitForRowsAsync(PostgresServer pg, int jobs)
    {
        var deadline = DateTime.UtcNow + Wait;
        long seen = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var conn = new NpgsqlConnection(pg.ConnectionString("outcomes"));
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("select count(distinct job_id) from jobd.outcomes", conn);
                seen = (long)(await cmd.ExecuteScalarAsync())!;
                if (seen >= jobs) return;
            }
            catch (NpgsqlException)
            {
                // starting again, or not migrated yet
            }
            await Task.Delay(200);
        }
        Assert.Fail($"{seen} of {jobs} jobs have rows in jobd.outcomes");
    }
}
