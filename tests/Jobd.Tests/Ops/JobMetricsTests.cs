using System;
using Jobd.Ops.Metrics;
using Jobd.Queue;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Ops;

public sealed class JobMetricsTests
{
    [Fact]
    public void Recording_a_known_type_allocates_nothing()
    {
        var m = new JobMetrics();
        m.Record("send_reminder", SettleKind.Done, 0.01);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) m.Record("send_reminder", i % 2 == 0 ? SettleKind.Done : SettleKind.Retry, i / 1000.0);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Types_without_a_handler_share_the_label_unknown_however_many()
    {
        var metrics = new DaemonMetrics(t => t is "noop" or "send_reminder");
        metrics.Jobs.Record("noop", SettleKind.Done, 0.001);
        metrics.Jobs.Record("send_reminder", SettleKind.Retry, 0.001);
        for (int i = 0; i < 3 * JobMetrics.MaxTypes; i++) metrics.Jobs.Record("random-" + i, SettleKind.Dead, 0.001);
        var text = PrometheusText.Parse(metrics.Render(null, 1));
        int series = 0;
        foreach (var _ in text.Named("jobd_jobs_total")) series++;
        Assert.Equal(3, series);
        Assert.Equal(3 * JobMetrics.MaxTypes, text.Value("jobd_jobs_total", ("type", "unknown"), ("outcome", "dead")));
        Assert.Equal(1, text.Value("jobd_jobs_total", ("type", "send_reminder"), ("outcome", "retry")));
        Assert.Equal(3 * JobMetrics.MaxTypes, text.Value("jobd_job_duration_seconds_count", ("type", "unknown")));
    }

    [Fact]
    public void Buckets_are_cumulative_and_the_count_is_the_inf_bucket()
    {
        var metrics = new DaemonMetrics();
        foreach (var s in new[] { 0.001, 0.2, 0.2, 3.0, 4000.0 }) metrics.Jobs.Record("x", SettleKind.Dead, s);
        var text = PrometheusText.Parse(metrics.Render(null, 1));
        Assert.Equal(1, text.Value("jobd_job_duration_seconds_bucket", ("type", "x"), ("le", "0.005")));
        Assert.Equal(3, text.Value("jobd_job_duration_seconds_bucket", ("type", "x"), ("le", "0.25")));
        Assert.Equal(4, text.Value("jobd_job_duration_seconds_bucket", ("type", "x"), ("le", "5")));
        Assert.Equal(4, text.Value("jobd_job_duration_seconds_bucket", ("type", "x"), ("le", "1800")));
        Assert.Equal(5, text.Value("jobd_job_duration_seconds_bucket", ("type", "x"), ("le", "+Inf")));
        Assert.Equal(5, text.Value("jobd_job_duration_seconds_count", ("type", "x")));
        Assert.Equal(4003.401, text.Value("jobd_job_duration_seconds_sum", ("type", "x")), 3);
        Assert.Equal(5, text.Value("jobd_jobs_total", ("type", "x"), ("outcome", "dead")));
    }

    [Fact]
    public void Providers_appear_once_set_and_label_values_are_escaped()
    {
        var metrics = new DaemonMetrics { OutboxLength = () => 42, PostgresUp = () => true, LogLinesDropped = () => 9 };
        metrics.SetRedisUp(true);
        var text = PrometheusText.Parse(metrics.Render(new[] { new System.Collections.Generic.KeyValuePair<string, long>("a\"b\\c\nd", 7) }, 4096));
        Assert.Equal(42, text.Value("jobd_outbox_length"));
        Assert.Equal(1, text.Value("jobd_postgres_up"));
        Assert.Equal(1, text.Value("jobd_redis_up"));
        Assert.Equal(7, text.Value("jobd_queue_depth", ("queue", "a\"b\\c\nd")));
        Assert.Equal(4096, text.Value("process_resident_memory_bytes"));
        Assert.Equal(9, text.Value("jobd_log_lines_dropped_total"));
        Assert.Equal("counter", text.Types["jobd_log_lines_dropped_total"]);
    }

    [Theory]
    [InlineData("127.0.0.1:9187", "127.0.0.1:9187")]
    [InlineData("0.0.0.0:1", "0.0.0.0:1")]
    [InlineData("[::1]:9187", "[::1]:9187")]
    [InlineData("[::]:65535", "[::]:65535")]
    [InlineData("localhost:9187", "127.0.0.1:9187")]
    public void Good_addresses_parse(string text, string expected)
    {
        Assert.True(MetricsAddress.TryParse(text, out var ep, out var problem), problem);
        Assert.Equal(expected, ep!.ToString());
    }

    [Theory]
    [InlineData("9187", "no host:port")]
    [InlineData(":9187", "no host:port")]
    [InlineData("127.0.0.1:", "no host:port")]
    [InlineData("127.0.0.1:0", "the port must be 1-65535")]
    [InlineData("127.0.0.1:65536", "the port must be 1-65535")]
    [InlineData("127.0.0.1:+80", "the port must be 1-65535")]
    [InlineData("::1:9187", "an IPv6 address must be in brackets")]
    [InlineData("example.com:9187", "the host is not an IP address")]
    [InlineData("127.1:9187", "the host is not an IP address")]
    public void Bad_addresses_name_the_problem(string text, string problem)
    {
        Assert.False(MetricsAddress.TryParse(text, out _, out var actual));
        Assert.Equal(problem, actual);
    }
}
