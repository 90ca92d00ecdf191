using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using Jobd.Queue;

namespace Jobd.Ops.Metrics;

/// <summary>
/// Everything /metrics reports, and its rendering in the Prometheus text format 0.0.4. Exists only when
/// JOBD_METRICS_ADDR is set; without it the daemon holds null and records nothing. Gauges owned by parts built
/// elsewhere (the outbox, Postgres) are providers set once they are wired; until then their series are absent.
/// </summary>
public sealed class DaemonMetrics
{
    private int _redisUp;

    /// <param name="hasHandler">Whether this worker handles a job type; other types are counted as "unknown".</param>
    public DaemonMetrics(Func<string, bool>? hasHandler = null) => Jobs = new JobMetrics(hasHandler);

    public JobMetrics Jobs { get; }

    /// <summary>Length of the Postgres outbox (jobd_outbox_length); null: not wired, the series is absent.</summary>
    public Func<long>? OutboxLength { get; set; }

    /// <summary>Whether Postgres answers (jobd_postgres_up); null: not wired, the series is absent.</summary>
    public Func<bool>? PostgresUp { get; set; }

    /// <summary>Round trips to Redis by connection (jobd_redis_round_trips_total); empty until the daemon wires them.</summary>
    public (string Connection, Jobd.Resp.RoundTripCounter Counter)[] RedisRoundTrips { get; set; } = [];

    /// <summary>Log lines dropped because the log reader did not keep up (jobd_log_lines_dropped_total); null: absent.</summary>
    public Func<long>? LogLinesDropped { get; set; }

    /// <summary>Set from the execution loop's connection state: the connection that matters for jobs.</summary>
    public void SetRedisUp(bool up) => Volatile.Write(ref _redisUp, up ? 1 : 0);

    /// <summary>
    /// Renders one scrape. <paramref name="queueDepths"/> is read from Redis by the caller just before (null when
    /// Redis did not answer in time: the series is then absent rather than a stale or false 0).
    /// </summary>
    public string Render(IReadOnlyList<KeyValuePair<string, long>>? queueDepths, long rssBytes)
    {
        var sb = new StringBuilder(4096);
        var types = Jobs.Snapshot();

        Header(sb, "jobd_jobs_total", "counter", "Jobs run by this process, by type and outcome (done, retry, dead, requeue).");
        foreach (var (type, c) in types)
        {
            for (int o = 1; o < JobMetrics.Outcomes.Length; o++)
            {
                long n = c.Outcome((SettleKind)o);
                if (n == 0) continue;
                sb.Append("jobd_jobs_total{type=\"").Append(Escape(type)).Append("\",outcome=\"").Append(JobMetrics.Outcomes[o]).Append("\"} ");
                Number(sb, n);
            }
        }

        Header(sb, "jobd_job_duration_seconds", "histogram", "Time from a job's start to its outcome, by type.");
        foreach (var (type, c) in types)
        {
            var label = Escape(type);
            long total = 0;
            for (int b = 0; b <= JobMetrics.Buckets.Length; b++)
            {
                total = c.Cumulative(b);
                sb.Append("jobd_job_duration_seconds_bucket{type=\"").Append(label).Append("\",le=\"");
                if (b < JobMetrics.Buckets.Length) sb.Append(JobMetrics.Buckets[b].ToString("R", CultureInfo.InvariantCulture));
                else sb.Append("+Inf");
                sb.Append("\"} ");
                Number(sb, total);
            }
            sb.Append("jobd_job_duration_seconds_sum{type=\"").Append(label).Append("\"} ");
            Number(sb, c.SumSeconds);
            // The +Inf bucket, not the separate count, so that count == +Inf holds even mid-update.
            sb.Append("jobd_job_duration_seconds_count{type=\"").Append(label).Append("\"} ");
            Number(sb, total);
        }

        if (queueDepths is not null)
        {
            Header(sb, "jobd_queue_depth", "gauge", "Ready jobs per queue this worker serves, read from Redis at scrape time.");
            foreach (var (queue, depth) in queueDepths)
            {
                sb.Append("jobd_queue_depth{queue=\"").Append(Escape(queue)).Append("\"} ");
                Number(sb, depth);
            }
        }

        if (OutboxLength is { } outbox)
        {
            Header(sb, "jobd_outbox_length", "gauge", "Outcomes waiting in the outbox to be written to Postgres.");
            sb.Append("jobd_outbox_length ");
            Number(sb, outbox());
        }

        Header(sb, "jobd_redis_up", "gauge", "1 while the execution loop's Redis connection is up, else 0.");
        sb.Append("jobd_redis_up ");
        Number(sb, Volatile.Read(ref _redisUp));

        if (RedisRoundTrips.Length > 0)
        {
            Header(sb, "jobd_redis_round_trips_total", "counter",
                "Requests written to Redis (a command or a pipeline each), by connection: loop (take and settle, blocking wait), control (heartbeat, scheduler, recovery, cron).");
            foreach (var (connection, counter) in RedisRoundTrips)
            {
                sb.Append("jobd_redis_round_trips_total{connection=\"").Append(connection).Append("\"} ");
                Number(sb, counter.Count);
            }
        }

        if (PostgresUp is { } pg)
        {
            Header(sb, "jobd_postgres_up", "gauge", "1 while Postgres answers, else 0.");
            sb.Append("jobd_postgres_up ");
            Number(sb, pg() ? 1 : 0);
        }

        if (LogLinesDropped is { } dropped)
        {
            Header(sb, "jobd_log_lines_dropped_total", "counter", "Log lines dropped because stderr's reader did not keep up (or was gone).");
            sb.Append("jobd_log_lines_dropped_total ");
            Number(sb, dropped());
        }

        Header(sb, "process_resident_memory_bytes", "gauge", "Resident memory of this process (from /proc/self/statm).");
        sb.Append("process_resident_memory_bytes ");
        Number(sb, rssBytes);

        // GC.GetTotalMemory, not GetGCMemoryInfo: the latter describes the last collection and is 0 before the first.
        Header(sb, "jobd_gc_heap_bytes", "gauge", "Bytes allocated on the managed heap and not known to be free (GC.GetTotalMemory).");
        sb.Append("jobd_gc_heap_bytes ");
        Number(sb, GC.GetTotalMemory(false));
        return sb.ToString();
    }

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Number(StringBuilder sb, long v) => sb.Append(v.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void Number(StringBuilder sb, double v) => sb.Append(v.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>Label values escape backslash, double quote and newline (text format 0.0.4).</summary>
    public static string Escape(string value)
    {
        if (value.IndexOfAny(Special) < 0) return value;
        return value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
    }

    private static readonly char[] Special = { '\\', '"', '\n' };
}
