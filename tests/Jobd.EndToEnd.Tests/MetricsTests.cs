using System;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>JOBD_METRICS_ADDR: /metrics scraped with a real HTTP client while `jobd run` works; nothing when unset.</summary>
public sealed class MetricsTests : WorkerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Counters_and_histograms_match_the_jobs_run()
    {
        int port = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"));
        var noops = await H.EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"noop\"}"));
        var dead = await H.EnqueueAsync(WorkerHarness.Lines(2, "{\"type\":\"fail\",\"args\":{\"permanent\":true}}"));
        var retried = await H.EnqueueAsync("{\"type\":\"fail\",\"args\":{\"retry_after_ms\":600000}}\n");
        var unrouted = await H.EnqueueAsync("{\"type\":\"no_such_type_1\"}\n{\"type\":\"no_such_type_2\"}\n");
        foreach (var id in noops) await WorkerHarness.LogLineAsync(worker, $"job {id} noop done", Wait);
        foreach (var id in dead) await WorkerHarness.LogLineAsync(worker, $"job {id} failed for good", Wait);
        await WorkerHarness.LogLineAsync(worker, $"job {retried[0]} failed, will retry", Wait);
        foreach (var id in unrouted) await WorkerHarness.LogLineAsync(worker, $"job {id} failed for good: no_route", Wait);

        using var response = await Http.GetAsync($"http://127.0.0.1:{port}/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var m = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("counter", m.Types["jobd_jobs_total"]);
        Assert.Equal(5, m.Value("jobd_jobs_total", ("type", "noop"), ("outcome", "done")));
        Assert.Equal(2, m.Value("jobd_jobs_total", ("type", "fail"), ("outcome", "dead")));
        Assert.Equal(1, m.Value("jobd_jobs_total", ("type", "fail"), ("outcome", "retry")));
        // Types without a handler share one label, so producers cannot grow the series without bound.
        Assert.Equal(2, m.Value("jobd_jobs_total", ("type", "unknown"), ("outcome", "dead")));
        Assert.Equal(4, Count(m, "jobd_jobs_total"));

        Assert.Equal("histogram", m.Types["jobd_job_duration_seconds"]);
        Assert.Equal(5, m.Value("jobd_job_duration_seconds_count", ("type", "noop")));
        Assert.Equal(3, m.Value("jobd_job_duration_seconds_count", ("type", "fail")));
        foreach (var type in new[] { "noop", "fail" })
        {
            double previous = 0;
            int buckets = 0;
            foreach (var s in m.Named("jobd_job_duration_seconds_bucket"))
            {
                if (!s.Has("type", type)) continue;
                Assert.True(s.Value >= previous, $"buckets of {type} must be cumulative");
                previous = s.Value;
                buckets++;
            }
            Assert.Equal(16, buckets);
            Assert.Equal(m.Value("jobd_job_duration_seconds_count", ("type", type)), m.Value("jobd_job_duration_seconds_bucket", ("type", type), ("le", "+Inf")));
            Assert.True(m.Value("jobd_job_duration_seconds_sum", ("type", type)) >= 0);
        }

        Assert.Equal("gauge", m.Types["jobd_queue_depth"]);
        Assert.Equal(0, m.Value("jobd_queue_depth", ("queue", "default")));
        Assert.Equal(1, m.Value("jobd_redis_up"));
        Assert.True(m.Value("process_resident_memory_bytes") > 1 << 20);
        Assert.True(m.Value("jobd_gc_heap_bytes") > 0);
        // Without DATABASE_URL there is no outbox and no Postgres: the series are absent, not a false 0
        // (with it, Outcomes/OutcomeRowTests reads both).
        Assert.Empty(m.Named("jobd_outbox_length"));
        Assert.Empty(m.Named("jobd_postgres_up"));
        foreach (var family in m.Types.Keys) Assert.True(m.Help.ContainsKey(family), "HELP for " + family);
        Assert.Contains(port, ListeningSockets.PortsOf(worker.Pid));
    }

    [Fact]
    public async Task A_backlog_of_jobs_costs_one_loop_round_trip_each()
    {
        const int jobs = 300;
        await H.EnqueueAsync(WorkerHarness.Lines(jobs, "{\"type\":\"noop\"}"));
        int port = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"));
        await WaitForCounterAsync("done", jobs, Wait);

        using var response = await Http.GetAsync($"http://127.0.0.1:{port}/metrics");
        var m = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("counter", m.Types["jobd_redis_round_trips_total"]);
        double loop = m.Value("jobd_redis_round_trips_total", ("connection", "loop"));
        // Each take settles the job before and takes the next: one round trip per job, plus start-up (handshake,
        // PING, script loads, reclaim) and the blocking waits once the queue is empty.
        Assert.InRange(loop, jobs, jobs + 20);
        Assert.True(m.Value("jobd_redis_round_trips_total", ("connection", "control")) >= 1);
    }

    [Fact]
    public async Task Queue_depth_is_read_from_redis_at_scrape_time()
    {
        int port = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"), ("JOBD_QUEUES", "default,low"));
        var sleeper = await H.EnqueueAsync("{\"type\":\"sleep\",\"args\":{\"ms\":20000}}\n");
        await WorkerHarness.LogLineAsync(worker, $"job {sleeper[0]} sleep started", Wait);
        await H.EnqueueAsync(WorkerHarness.Lines(4, "{\"type\":\"noop\"}") + WorkerHarness.Lines(2, "{\"type\":\"noop\",\"queue\":\"low\"}"));

        var m = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
        Assert.Equal(4, m.Value("jobd_queue_depth", ("queue", "default")));
        Assert.Equal(2, m.Value("jobd_queue_depth", ("queue", "low")));
        Assert.Empty(m.Named("jobd_jobs_total"));
    }

    [Fact]
    public async Task Other_paths_and_methods_get_404_and_the_endpoint_keeps_serving()
    {
        int port = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"));
        using (var r = await Http.GetAsync($"http://127.0.0.1:{port}/"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await Http.GetAsync($"http://127.0.0.1:{port}/metrics/x"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await Http.PostAsync($"http://127.0.0.1:{port}/metrics", new StringContent("x")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await Http.GetAsync($"http://127.0.0.1:{port}/metrics?x=1"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task A_silent_client_does_not_stop_jobs_or_later_scrapes()
    {
        int port = FreePort.Next();
        await using var worker = await H.StartWorkerAsync(("JOBD_METRICS_ADDR", $"127.0.0.1:{port}"));
        // Connects and sends nothing: holds the one-at-a-time endpoint until its timeout.
        using var silent = new System.Net.Sockets.TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, port);
        var ids = await H.EnqueueAsync(WorkerHarness.Lines(3, "{\"type\":\"noop\"}"));
        foreach (var id in ids) await WorkerHarness.LogLineAsync(worker, $"job {id} noop done", Wait);
        var m = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
        Assert.Equal(3, m.Value("jobd_jobs_total", ("type", "noop"), ("outcome", "done")));
    }

    [Fact]
    public async Task Without_metrics_addr_the_worker_listens_on_nothing()
    {
        await using var worker = await H.StartWorkerAsync();
        Assert.Empty(ListeningSockets.PortsOf(worker.Pid));
        Assert.DoesNotContain(worker.Stderr.Snapshot(), l => l.Contains("metrics", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("9187")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("metrics.example:9187")]
    [InlineData("::1:9187")]
    public async Task A_malformed_address_is_refused_with_exit_78_and_one_line(string value)
    {
        await using var p = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_METRICS_ADDR", value)));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var line = Assert.Single(p.Stderr.Snapshot());
        Assert.Contains("JOBD_METRICS_ADDR", line);
        Assert.Contains("expected host:port", line);
    }

    [Fact]
    public async Task An_address_in_use_ends_run_with_exit_78_and_one_error_line()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var p = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_METRICS_ADDR", $"127.0.0.1:{port}")));
        Assert.Equal(78, await p.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(p.Stderr.Snapshot(), l => l.Contains(" error ", StringComparison.Ordinal) && l.Contains($"cannot listen on JOBD_METRICS_ADDR 127.0.0.1:{port}", StringComparison.Ordinal));
    }

    private static int Count(PrometheusText m, string name)
    {
        int n = 0;
        foreach (var _ in m.Named(name)) n++;
        return n;
    }
}
