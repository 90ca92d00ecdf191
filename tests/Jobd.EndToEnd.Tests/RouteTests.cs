using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Testing;
using Npgsql;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>JOBD_ROUTE_&lt;TYPE&gt; and JOBD_DEFAULT_ROUTE as users set them: the published binary, real servers and programs.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RouteTests : WorkerTest, IDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private const string Secret = "route-test-secret-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("jobd-routes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Script(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private async Task<string> EnqueueOne(string line) => (await H.EnqueueAsync(line + "\n"))[0];

    private static Task Dead(ChildProcess w, string id) => WorkerHarness.LogLineAsync(w, $"job {id} failed for good", Settle);

    [Fact]
    public async Task An_http_route_posts_a_signed_envelope_and_keeps_the_reply_and_a_4xx_is_dead()
    {
        await using var server = new TestHttpServer((req, r) => req.Path == "/ok"
            ? TestHttpServer.Write(r, 200, "{\"handled\":true}")
            : TestHttpServer.Write(r, 422, "order is closed"));
        await using var w = await H.StartWorkerAsync(("JOBD_ROUTE_hook", "http:" + server.Url("/ok")),
            ("JOBD_ROUTE_refused", "http:" + server.Url("/no")), ("JOBD_HTTP_SECRET", Secret));
        var ok = await EnqueueOne("{\"type\":\"hook\",\"args\":{\"n\":1}}");
        var refused = await EnqueueOne("{\"type\":\"refused\",\"args\":{}}");
        await WorkerHarness.LogLineAsync(w, $"job {ok} hook done", Settle);
        await Dead(w, refused);
        Assert.Equal("{\"handled\":true}", H.Field(ok, "result"));
        Assert.Equal("dead", H.Field(refused, "state"));
        Assert.Equal("http 422: order is closed", H.Field(refused, "last_error"));
        var req = server.Received.Snapshot()[0];
        Assert.Equal(ok, req.Headers["X-Jobd-Id"]);
        var sig = req.Headers["X-Jobd-Signature"];
        var t = sig[2..sig.IndexOf(',')];
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(t + "." + Encoding.UTF8.GetString(req.Body))));
        Assert.Equal("t=" + t + ",v1=" + expected, sig);
    }

    [Fact]
    public async Task An_exec_route_runs_the_program_with_the_job_on_stdin_and_exit_codes_decide()
    {
        var echo = Script("echo.sh", "cat");
        var broken = Script("broken.sh", "echo 'no such order' >&2; exit 3");
        var later = Script("later.sh", "echo 'busy' >&2; exit 75");
        await using var w = await H.StartWorkerAsync(("JOBD_ROUTE_echo", "exec:" + echo),
            ("JOBD_ROUTE_broken", "exec:" + broken), ("JOBD_ROUTE_later", "exec:" + later + " 'a b' ';' '$(id)'"));
        var ok = await EnqueueOne("{\"type\":\"echo\",\"args\":{\"n\":1}}");
        var bad = await EnqueueOne("{\"type\":\"broken\",\"args\":{}}");
        var retry = await EnqueueOne("{\"type\":\"later\",\"args\":{},\"max_attempts\":2}");
        await WorkerHarness.LogLineAsync(w, $"job {ok} echo done", Settle);
        await Dead(w, bad);
        await WorkerHarness.LogLineAsync(w, $"job {retry} failed, will retry: exec: exit 75: busy", Settle);
        Assert.Contains("\"id\":\"" + ok + "\",\"type\":\"echo\"", H.Field(ok, "result"));
        Assert.Contains("\"args\":{\"n\":1}", H.Field(ok, "result"));
        Assert.Equal("exec: exit 3: no such order", H.Field(bad, "last_error"));
    }

    [Fact]
    public async Task A_sql_route_calls_the_function_and_a_slow_one_times_out()
    {
        await using var pg = await TestPostgres.CreateSchemaAsync();
        await using (var conn = new NpgsqlConnection(pg.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                $"create function {pg.Schema}.twice(a jsonb) returns int language sql as $$ select (a->>'n')::int * 2 $$;" +
                $"create function {pg.Schema}.slow(a jsonb) returns int language sql as $$ select pg_sleep(30); select 1 $$;", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        await using var w = await H.StartWorkerAsync(("DATABASE_URL", pg.Url), ("JOBD_PG_SCHEMA", pg.Schema),
            ("JOBD_ROUTE_calc", "sql:" + pg.Schema + ".twice"), ("JOBD_ROUTE_slow", "sql:" + pg.Schema + ".slow"));
        var ok = await EnqueueOne("{\"type\":\"calc\",\"args\":{\"n\":21}}");
        var slow = await EnqueueOne("{\"type\":\"slow\",\"args\":{},\"timeout\":\"1s\",\"max_attempts\":1}");
        await WorkerHarness.LogLineAsync(w, $"job {ok} calc done", Settle);
        await Dead(w, slow);
        Assert.Equal("42", H.Field(ok, "result"));
        // statement_timeout and the worker's own timer fire together; either way the job timed out.
        Assert.Matches(@"^attempts exhausted \(1\): (sql: )?timeout after 1s", H.Field(slow, "last_error"));
    }

    [Fact]
    public async Task A_type_cannot_change_the_default_routes_host_or_path()
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, "{}"));
        await using var w = await H.StartWorkerAsync(("JOBD_DEFAULT_ROUTE", "http:" + server.Url("/jobs/{type}")));
        var ids = await H.EnqueueAsync("{\"type\":\"..:..\"}\n{\"type\":\"a.b\"}\n{\"type\":\"..\"}\n{\"type\":\".\"}\n");
        await WorkerHarness.LogLineAsync(w, $"job {ids[0]} ..:.. done", Settle);
        await WorkerHarness.LogLineAsync(w, $"job {ids[1]} a.b done", Settle);
        // "." or ".." as a whole path segment would be resolved away (/jobs/. is /jobs/, /jobs/.. is /): those jobs
        // fail for good, and nothing is posted for them.
        await Dead(w, ids[2]);
        await Dead(w, ids[3]);
        Assert.Equal("http: the job type would change the URL's host or path", H.Field(ids[2], "last_error"));
        Assert.Equal("http: the job type would change the URL's host or path", H.Field(ids[3], "last_error"));
        var paths = new List<string>();
        foreach (var req in server.Received.Snapshot()) paths.Add(req.Path);
        paths.Sort(StringComparer.Ordinal);
        Assert.Equal(new[] { "/jobs/..%3A..", "/jobs/a.b" }, paths);
        // Types that could carry a host, path or fragment are refused before they reach any queue.
        foreach (var type in new[] { "a/b", "x@evil.example", "x#frag", "../admin" })
        {
            await using var p = JobdBinary.Start(new[] { "enqueue", type, "{}" }, JobdBinary.Env(("REDIS_URL", Db.Url)));
            Assert.NotEqual(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(0L, H.Count("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task Jobd_config_lists_the_routes_and_never_the_secrets()
    {
        const string canary = "CANARY-route-s3cr3t-55";
        await using var p = JobdBinary.Start(new[] { "config" }, JobdBinary.Env(
            ("JOBD_ROUTE_hook", "http:https://app.internal/jobs/hook"), ("JOBD_ROUTE_resize", "exec:/usr/bin/convert -resize 50%"),
            ("JOBD_ROUTE_calc", "sql:app.calc"), ("DATABASE_URL", $"postgres://app:{canary}@db.internal/app"),
            ("JOBD_HTTP_SECRET", canary), ("JOBD_HTTP_SECRET_NEXT", canary + "-next")));
        Assert.Equal(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var text = string.Join('\n', p.Stdout.Snapshot());
        Assert.Contains("JOBD_ROUTE_hook=http:https://app.internal/jobs/hook", text);
        Assert.Contains("JOBD_ROUTE_resize=exec:/usr/bin/convert -resize 50%", text);
        Assert.Contains("JOBD_ROUTE_calc=sql:app.calc", text);
        Assert.Contains("JOBD_HTTP_SECRET=(set)", text);
        Assert.DoesNotContain(canary, text);
    }

    [Theory]
    [InlineData("JOBD_ROUTE_calc", "sql:app.f\"; drop table x", "JOBD_ROUTE_calc: ")]
    [InlineData("JOBD_ROUTE_calc", "sql:app.f;select 1", "JOBD_ROUTE_calc: ")]
    [InlineData("JOBD_ROUTE_calc", "sql:\"app\".\"f\"", "JOBD_ROUTE_calc: ")]
    [InlineData("JOBD_DEFAULT_ROUTE", "http:http://{type}.evil.example/x", "JOBD_DEFAULT_ROUTE: ")]
    [InlineData("JOBD_ROUTE_resize", "exec:convert -resize 50%", "JOBD_ROUTE_resize: exec: the program \"convert\" is not an absolute path")]
    [InlineData("JOBD_ROUTE_ledger", "exec:/bin/true", "JOBD_ROUTE_ledger: ledger is a compiled-in handler and cannot also be routed")]
    [InlineData("JOBD_ROUTE_noop", "http:https://app.internal/x", "JOBD_ROUTE_noop: noop is a compiled-in handler and cannot also be routed")]
    public async Task A_bad_route_stops_the_worker_at_start_up_with_exit_78_and_one_line(string name, string value, string expected)
    {
        await using var p = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), (name, value),
            ("DATABASE_URL", "postgres://u:p@127.0.0.1:1/db")));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var line = Assert.Single(p.Stderr.Snapshot());
        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task Jobd_config_refuses_a_route_for_a_compiled_in_type()
    {
        await using var p = JobdBinary.Start(new[] { "config" }, JobdBinary.Env(("JOBD_ROUTE_ledger", "exec:/bin/true")));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("jobd: configuration error: JOBD_ROUTE_ledger: ledger is a compiled-in handler and cannot also be routed; choose another type name or drop the route",
            Assert.Single(p.Stderr.Snapshot()));
    }

    private static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines("/proc/" + pid + "/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmRSS for " + pid);
    }

    [Fact]
    public async Task A_program_flooding_stdout_is_ended_and_its_job_dead_while_memory_stays_flat()
    {
        await using var w = await H.StartWorkerAsync(("JOBD_ROUTE_flood", "exec:/usr/bin/yes"), ("JOBD_ROUTE_echo", "exec:/bin/cat"));
        // A first job warms the exec path up, so what follows measures the floods alone.
        var warm = await EnqueueOne("{\"type\":\"echo\",\"args\":{}}");
        await WorkerHarness.LogLineAsync(w, $"job {warm} echo done", Settle);
        long before = RssKb(w.Pid);
        var ids = await H.EnqueueAsync(WorkerHarness.Lines(3, "{\"type\":\"flood\",\"args\":{},\"timeout\":\"10m\"}"));
        foreach (var id in ids) await Dead(w, id);
        long after = RssKb(w.Pid);
        foreach (var id in ids)
            Assert.Equal("exec: output_too_large (more than 1048576 bytes on stdout)", H.Field(id, "last_error"));
        Console.WriteLine($"flood: worker VmRSS {before} kB before 3 floods, {after} kB after");
        // Each flood passes 1 MiB through a 16 KB buffer: no growth in proportion to it (a generous bound).
        Assert.True(after - before < 16 * 1024, $"VmRSS grew from {before} kB to {after} kB");
    }

    [Fact]
    public async Task A_program_that_ignores_a_10_MB_payload_is_judged_by_its_exit_code()
    {
        await using var w = await H.StartWorkerAsync(("JOBD_MAX_JOB_BYTES", "16MB"),
            ("JOBD_ROUTE_ignore", "exec:/bin/true"), ("JOBD_ROUTE_refuse", "exec:/bin/false"));
        var args = "{\"blob\":\"" + new string('b', 10 << 20) + "\"}";
        var ids = new List<string>();
        foreach (var type in new[] { "ignore", "refuse" })
        {
            await using var p = JobdBinary.Start(new[] { "enqueue", type, "-" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_MAX_JOB_BYTES", "16MB")));
            await p.Stdin.WriteAsync(args);
            p.Stdin.Close();
            Assert.Equal(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            ids.Add(Assert.Single(p.Stdout.Snapshot()));
        }
        await WorkerHarness.LogLineAsync(w, $"job {ids[0]} ignore done", Settle);
        await Dead(w, ids[1]);
        Assert.Equal("exec: exit 1", H.Field(ids[1], "last_error"));
    }

    [Fact]
    public async Task A_link_local_target_fails_for_good_without_a_request()
    {
        await using var w = await H.StartWorkerAsync(("JOBD_ROUTE_meta", "http:http://169.254.169.254/latest/meta-data/"));
        var id = await EnqueueOne("{\"type\":\"meta\",\"args\":{}}");
        await Dead(w, id);
        Assert.Equal("http: 169.254.169.254 is a link-local or cloud metadata address, refused unless the host is in JOBD_HTTP_ALLOW",
            H.Field(id, "last_error"));
    }

    [Fact]
    public async Task A_sql_route_without_database_url_exits_78()
    {
        await using var p = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_ROUTE_calc", "sql:app.f")));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("DATABASE_URL", Assert.Single(p.Stderr.Snapshot()));
    }
}
