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
        var ids = await H.EnqueueAsync("{\"type\":\"..:..\"}\n{\"type\":\"a.b\"}\n{\"type\":\"..\"}\n");
        await WorkerHarness.LogLineAsync(w, $"job {ids[0]} ..:.. done", Settle);
        await WorkerHarness.LogLineAsync(w, $"job {ids[1]} a.b done", Settle);
        // ".." as a whole path segment would climb out of /jobs/ (URLs unescape %2E): that job fails for good.
        await Dead(w, ids[2]);
        Assert.Equal("http: the job type would change the URL's host or path", H.Field(ids[2], "last_error"));
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
    public async Task A_bad_route_stops_the_worker_at_start_up_with_exit_78_and_one_line(string name, string value, string expected)
    {
        await using var p = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), (name, value),
            ("DATABASE_URL", "postgres://u:p@127.0.0.1:1/db")));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var line = Assert.Single(p.Stderr.Snapshot());
        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task A_sql_route_without_database_url_exits_78()
    {
        await using var p = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_ROUTE_calc", "sql:app.f")));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("DATABASE_URL", Assert.Single(p.Stderr.Snapshot()));
    }
}
