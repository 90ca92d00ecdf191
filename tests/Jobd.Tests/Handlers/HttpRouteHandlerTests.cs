using System;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers;
using Jobd.Handlers.Http;
using Jobd.Handlers.Routes;
using Jobd.Testing;
using Xunit;
using static Jobd.Tests.Handlers.HandlerTestJobs;

namespace Jobd.Tests.Handlers;

public sealed class HttpRouteHandlerTests
{
    private const string Secret = "first-secret-0123456789";
    private const string Next = "second-secret-0123456789";
    private static readonly HttpClient Client = HttpRouteHandler.CreateClient();

    private static HttpRouteHandler Handler(TestHttpServer server, string path = "/hook", params (string, string)[] more)
    {
        var pairs = new (string, string)[more.Length + 1];
        pairs[0] = ("JOBD_ROUTE_t1", "http:" + server.Url(path));
        more.CopyTo(pairs, 1);
        var table = Routes(pairs);
        return new HttpRouteHandler(Client, table.ByType[0].Route, table, "1.2.3");
    }

    private static async Task<JobOutcome> Run(IJobHandler h, int timeoutMs = 10_000, string args = "{\"a\":1}")
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        return await h.RunAsync(Job(args: args), cts.Token);
    }

    [Fact]
    public async Task A_2xx_is_success_with_the_body_as_result_and_the_envelope_and_headers_are_sent()
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, "{\"ok\":true}"));
        var job = Job(args: "{\"x\":[1,2]}", attempt: 2);
        var outcome = await Handler(server).RunAsync(job, CancellationToken.None);
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Equal("{\"ok\":true}", outcome.Result);
        var req = Assert.Single(server.Received.Snapshot());
        Assert.Equal("POST", req.Method);
        Assert.Equal("/hook", req.Path);
        Assert.Equal(job.Id, req.Headers["X-Jobd-Id"]);
        Assert.Equal("t1", req.Headers["X-Jobd-Type"]);
        Assert.Equal("2", req.Headers["X-Jobd-Attempt"]);
        Assert.Equal("jobd/1.2.3", req.Headers["User-Agent"]);
        Assert.StartsWith("application/json", req.Headers["Content-Type"]);
        Assert.False(req.Headers.ContainsKey("X-Jobd-Signature"));
        Assert.Equal("{\"id\":\"" + job.Id + "\",\"type\":\"t1\",\"queue\":\"default\",\"attempt\":2,\"max_attempts\":5,\"enqueued_at\":1700000000000,\"args\":{\"x\":[1,2]}}",
            Encoding.UTF8.GetString(req.Body));
    }

    [Fact]
    public async Task A_text_body_becomes_a_json_string_result()
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 201, "plain \"text\""));
        var outcome = await Run(Handler(server));
        Assert.Equal("\"plain \\u0022text\\u0022\"", outcome.Result);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Retryable_statuses_retry(int status)
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, status, "busy"));
        var outcome = await Run(Handler(server));
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.Contains("http " + status, outcome.Error);
        Assert.Null(outcome.RetryAfter);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task Other_4xx_fail_for_good_with_status_and_excerpt(int status)
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, status, "bad thing\nhappened"));
        var outcome = await Run(Handler(server));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("http " + status + ": bad thing happened", outcome.Error);
    }

    [Fact]
    public async Task Retry_after_in_seconds_is_honoured()
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 429, "", ("Retry-After", "120")));
        var outcome = await Run(Handler(server));
        Assert.Equal(TimeSpan.FromSeconds(120), outcome.RetryAfter);
    }

    [Fact]
    public async Task Retry_after_as_an_http_date_is_honoured()
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(10);
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 503, "", ("Retry-After", at.ToString("R"))));
        var outcome = await Run(Handler(server));
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.InRange(outcome.RetryAfter!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));
    }

    [Theory]
    [InlineData("-5", null)]
    [InlineData("garbage", null)]
    [InlineData("1.5", null)]
    [InlineData("0", 1.0)]
    [InlineData("315360000", 86400.0)]
    [InlineData("Wed, 21 Oct 2015 07:28:00 GMT", 1.0)]
    [InlineData("Fri, 31 Dec 2100 23:59:59 GMT", 86400.0)]
    public async Task Odd_retry_after_values_are_clamped_to_one_second_to_one_day_or_ignored(string value, double? seconds)
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 503, "", ("Retry-After", value)));
        var outcome = await Run(Handler(server));
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, outcome.RetryAfter);
    }

    [Fact]
    public async Task A_slow_response_past_the_timeout_retries()
    {
        var release = new TaskCompletionSource();
        await using var server = new TestHttpServer(async (_, r) => { await release.Task; await TestHttpServer.Write(r, 200, "{}"); });
        var registry = new HandlerRegistry().Register("t1", Handler(server));
        var runner = new Jobd.Runtime.JobRunner(registry, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1));
        var settlement = await runner.RunAsync(Job(), CancellationToken.None, CancellationToken.None);
        release.SetResult();
        Assert.Equal(Jobd.Queue.SettleKind.Retry, settlement.Kind);
        Assert.Equal("timeout after 0.3s", settlement.Text);
    }

    [Fact]
    public async Task A_refused_connection_retries()
    {
        var table = Routes(("JOBD_ROUTE_t1", "http:http://127.0.0.1:" + Jobd.Testing.FreePort.Next() + "/x"));
        var outcome = await Run(new HttpRouteHandler(Client, table.ByType[0].Route, table, "1"));
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
    }

    [Fact]
    public async Task Both_signatures_verify_independently()
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, ""));
        var outcome = await Run(Handler(server, "/hook", ("JOBD_HTTP_SECRET", Secret), ("JOBD_HTTP_SECRET_NEXT", Next)));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Null(outcome.Result);
        var req = Assert.Single(server.Received.Snapshot());
        var parts = req.Headers["X-Jobd-Signature"].Split(',');
        Assert.Equal(3, parts.Length);
        Assert.StartsWith("t=", parts[0]);
        long t = long.Parse(parts[0][2..]);
        Assert.InRange(t, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        var signed = Encoding.UTF8.GetBytes(parts[0][2..] + ".").AsSpan().ToArray();
        var message = new byte[signed.Length + req.Body.Length];
        signed.CopyTo(message, 0);
        req.Body.CopyTo(message, signed.Length);
        using var h1 = new HMACSHA256(Encoding.UTF8.GetBytes(Secret));
        using var h2 = new HMACSHA256(Encoding.UTF8.GetBytes(Next));
        Assert.Equal("v1=" + Convert.ToHexString(h1.ComputeHash(message)).ToLowerInvariant(), parts[1]);
        Assert.Equal("v1=" + Convert.ToHexString(h2.ComputeHash(message)).ToLowerInvariant(), parts[2]);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_by_default()
    {
        await using var server = new TestHttpServer((req, r) => req.Path == "/old"
            ? TestHttpServer.Write(r, 307, "", ("Location", "/new"))
            : TestHttpServer.Write(r, 200, "{\"at\":\"new\"}"));
        var outcome = await Run(Handler(server, "/old"));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("http 307", outcome.Error);
        Assert.Single(server.Received.Snapshot());
    }

    [Fact]
    public async Task A_redirect_is_followed_when_enabled()
    {
        await using var server = new TestHttpServer((req, r) => req.Path == "/old"
            ? TestHttpServer.Write(r, 307, "", ("Location", "/new"))
            : TestHttpServer.Write(r, 200, "{\"at\":\"new\"}"));
        var outcome = await Run(Handler(server, "/old", ("JOBD_HTTP_REDIRECTS", "true")));
        Assert.Equal("{\"at\":\"new\"}", outcome.Result);
        var reqs = server.Received.Snapshot();
        Assert.Equal(2, reqs.Count);
        Assert.Equal("POST", reqs[1].Method);
        Assert.Equal(reqs[0].Body, reqs[1].Body);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{other}/new", "http://127.0.0.1:{other}")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "http://169.254.169.254")]
    [InlineData("https://127.0.0.1:{port}/new", "https://127.0.0.1:{port}")]
    public async Task A_redirect_to_another_origin_is_not_followed(string location, string origin)
    {
        await using var other = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, "{}"));
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 302, "",
            ("Location", location.Replace("{other}", other.Port.ToString()).Replace("{port}", "0"))));
        var outcome = await Run(Handler(server, "/old", ("JOBD_HTTP_REDIRECTS", "true")));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("http 302: redirect to another origin (" + origin.Replace("{other}", other.Port.ToString()).Replace("{port}", "0")
            + "), not followed", outcome.Error);
        Assert.Single(server.Received.Snapshot());
        Assert.Empty(other.Received.Snapshot());
    }

    [Fact]
    public async Task A_redirect_within_the_origin_stops_after_three_hops()
    {
        await using var server = new TestHttpServer((req, r) => TestHttpServer.Write(r, 307, "", ("Location", req.Path + "x")));
        var outcome = await Run(Handler(server, "/a", ("JOBD_HTTP_REDIRECTS", "true")));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("http 307: more than 3 redirects", outcome.Error);
        Assert.Equal(4, server.Received.Snapshot().Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_endless_body_is_cut_at_the_limit_and_its_connection_dropped(bool chunked)
    {
        // A 2xx body that never ends (chunked) or claims 1 GB: the job ends long before its timeout, with what fit.
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new TestHttpServer(async (_, r) =>
        {
            r.StatusCode = 200;
            if (chunked) r.SendChunked = true;
            else r.ContentLength64 = 1L << 30;
            var chunk = Encoding.ASCII.GetBytes(new string('z', 16384));
            try
            {
                while (true) await r.OutputStream.WriteAsync(chunk);
            }
            catch (Exception)
            {
                dropped.TrySetResult();
                throw;
            }
        });
        var outcome = await Run(Handler(server, "/hook", ("JOBD_MAX_RESULT_BYTES", "1KB")), timeoutMs: 120_000);
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Equal("{\"truncated\":true,\"text\":\"" + new string('z', 1024) + "\"}", outcome.Result);
        // The server sees its client go away: the rest of the body was not drained.
        await dropped.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_not_marked_truncated()
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, new string('x', 1024)));
        var outcome = await Run(Handler(server, "/hook", ("JOBD_MAX_RESULT_BYTES", "1KB")));
        Assert.Equal("\"" + new string('x', 1024) + "\"", outcome.Result);
    }

    [Theory]
    [InlineData("169.254.169.254", true)]
    [InlineData("169.254.0.1", true)]
    [InlineData("169.254.255.255", true)]
    [InlineData("::ffff:169.254.169.254", true)]
    [InlineData("fe80::1", true)]
    [InlineData("febf:ffff::1", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("169.253.255.255", false)]
    [InlineData("169.255.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fec0::1", false)]
    [InlineData("fd00:ec2::253", false)]
    public void Link_local_and_metadata_addresses_are_forbidden(string address, bool forbidden) =>
        Assert.Equal(forbidden, DestinationGuard.IsForbidden(System.Net.IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254")]
    [InlineData("http://[fe80::1]:8080/x", "fe80::1")]
    public async Task A_link_local_target_is_refused_for_good_without_a_connection(string url, string host)
    {
        var table = Routes(("JOBD_ROUTE_t1", "http:" + url));
        using var client = HttpRouteHandler.CreateClient(table.HttpAllow);
        var outcome = await Run(new HttpRouteHandler(client, table.ByType[0].Route, table, "1"));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("http: " + host + " is a link-local or cloud metadata address, refused unless the host is in JOBD_HTTP_ALLOW", outcome.Error);
    }

    [Fact]
    public async Task A_link_local_target_in_the_allowlist_is_connected_to()
    {
        // Whatever is there (nothing, or a network's transparent proxy answering for it), the attempt is made: its
        // outcome is a connection error, a status, or still connecting when the test gives up; never the refusal.
        var table = Routes(("JOBD_ROUTE_t1", "http:http://169.254.77.77:9/x"), ("JOBD_HTTP_ALLOW", "169.254.77.77"));
        using var client = HttpRouteHandler.CreateClient(table.HttpAllow);
        var handler = new HttpRouteHandler(client, table.ByType[0].Route, table, "1");
        try
        {
            var outcome = await Run(handler, timeoutMs: 2000);
            Assert.DoesNotContain("link-local", outcome.Error ?? "");
        }
        catch (OperationCanceledException)
        {
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_is_cut_and_marked_truncated()
    {
        var big = new string('x', 5000);
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, big));
        var outcome = await Run(Handler(server, "/hook", ("JOBD_MAX_RESULT_BYTES", "1KB")));
        Assert.Equal("{\"truncated\":true,\"text\":\"" + new string('x', 1024) + "\"}", outcome.Result);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("x@evil.example")]
    [InlineData("x#frag")]
    [InlineData("x?q=1")]
    [InlineData("..:..")]
    [InlineData(".")]
    public void A_type_cannot_change_the_url_host_or_path(string type)
    {
        var table = Routes(("JOBD_DEFAULT_ROUTE", "http:http://app.internal:8080/jobs/{type}"));
        var url = HttpRouteHandler.UrlFor(table.Default!, type, null, out var problem);
        if (url is null)
        {
            Assert.NotNull(problem);
            return;
        }
        Assert.Equal("app.internal", url.Host);
        Assert.Equal(8080, url.Port);
        Assert.StartsWith("/jobs/", url.AbsolutePath);
        Assert.Equal(2, url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("", url.Fragment);
        Assert.Equal("", url.Query);
    }

    [Theory]
    [InlineData("http:https://app.internal/jobs/{type}", ".")]
    [InlineData("http:https://app.internal/jobs/{type}", "..")]
    [InlineData("http:http://app.internal/jobs/{type}/run", ".")]
    [InlineData("http:http://app.internal/jobs/{type}/run", "..")]
    [InlineData("http:http://app.internal/jobs/.{type}", ".")]
    public void A_type_that_makes_a_dot_segment_is_refused(string route, string type)
    {
        var table = Routes(("JOBD_DEFAULT_ROUTE", route));
        Assert.Null(HttpRouteHandler.UrlFor(table.Default!, type, null, out var problem));
        Assert.Equal("the job type would change the URL's host or path", problem);
    }

    [Theory]
    [InlineData("http:https://app.internal/jobs/{type}", "...", "https://app.internal/jobs/...")]
    [InlineData("http:https://app.internal/jobs/{type}", ".x", "https://app.internal/jobs/.x")]
    [InlineData("http:https://app.internal/a/./jobs/{type}", "b", "https://app.internal/a/jobs/b")]
    [InlineData("http:https://app.internal/jobs?t={type}", "..", "https://app.internal/jobs?t=..")]
    public void Dots_that_are_no_dot_segment_pass(string route, string type, string expected)
    {
        var table = Routes(("JOBD_DEFAULT_ROUTE", route));
        Assert.Equal(expected, HttpRouteHandler.UrlFor(table.Default!, type, null, out _)!.AbsoluteUri);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task A_dot_type_under_the_default_route_fails_for_good_and_sends_nothing(string type)
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 200, "{}"));
        var table = Routes(("JOBD_DEFAULT_ROUTE", "http:" + server.Url("/jobs/{type}")));
        var handler = new HttpRouteHandler(Client, table.Default!, table, "1");
        using var cts = new CancellationTokenSource(10_000);
        var outcome = await handler.RunAsync(Job(type: type), cts.Token);
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("http: the job type would change the URL's host or path", outcome.Error);
        Assert.Empty(server.Received.Snapshot());
    }

    [Fact]
    public void The_type_placeholder_is_percent_encoded()
    {
        var table = Routes(("JOBD_DEFAULT_ROUTE", "http:https://app.internal/jobs/{type}"));
        Assert.Equal("https://app.internal/jobs/mail%3Asend.v2", HttpRouteHandler.UrlFor(table.Default!, "mail:send.v2", null, out _)!.AbsoluteUri);
    }
}
