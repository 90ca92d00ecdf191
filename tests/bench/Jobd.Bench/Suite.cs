// Mode "suite": every PRODUCT.md "Hard numbers" figure, measured against the bench's own redis-server and
// Postgres with jobd run as a separate process, each run on emptied servers; writes results.md and drain.svg.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Bench;

internal sealed class Suite
{
    private const double MB = 1024 * 1024;
    private const string DueQueue = "bench-due"; // served by no worker, so moved jobs stay countable
    private const int DueLeadSeconds = 10; // enqueueing 10,000 took over 3 s on a loaded 2-core box
    private readonly SuiteOptions _o;
    private readonly Servers _servers;
    private readonly Figures _f = new();
    private readonly List<DrainSample> _chart = new();

    private Suite(SuiteOptions o, Servers servers) { _o = o; _servers = servers; }

    public static async Task<int> RunAsync(SuiteOptions o)
    {
        using var servers = Servers.Start();
        var suite = new Suite(o, servers);
        Log($"jobd-bench suite{(o.Smoke ? " (smoke)" : "")}: {o.Runs} run(s), redis :{servers.RedisPort}, postgres :{servers.PgPort}");
        suite._f.BinarySize.Add(new FileInfo(o.JobdBinary).Length / MB);
        for (int run = 1; run <= o.Runs; run++)
        {
            Log($"run {run}/{o.Runs}");
            await suite.OneRunAsync().ConfigureAwait(false);
        }
        Directory.CreateDirectory(o.OutDir);
        var table = ResultsWriter.Table(suite._f.All, o);
        File.WriteAllText(Path.Combine(o.OutDir, "results.md"), table);
        File.WriteAllText(Path.Combine(o.OutDir, "drain.svg"), DrainChart.Svg(suite._chart, o.DrainJobs));
        Console.WriteLine(table);
        int missing = 0;
        foreach (var fig in suite._f.All)
            if (!fig.HasValue && fig.Missing is null) { Console.Error.WriteLine("jobd-bench: no value for " + fig.Name); missing++; }
        return missing == 0 ? 0 : 1;
    }

    private async Task OneRunAsync()
    {
        using var mini = new MiniRedis(_servers.RedisPort);
        mini.Call("FLUSHALL");
        Psql("DROP SCHEMA IF EXISTS jobd CASCADE");
        Log("  idle with Postgres");
        await IdleWithDatabaseAsync(mini).ConfigureAwait(false);
        Log("  latency, stand-in worker");
        await StandInLatencyAsync(mini).ConfigureAwait(false);
        Log("  due jobs");
        await SchedulerAsync(mini).ConfigureAwait(false);
        Log("  idle without Postgres");
        IdleWithoutDatabase();
        Log("  drain, one worker, no Postgres");
        await DrainWithoutDatabaseAsync(mini).ConfigureAwait(false);
        Log("  drain, one worker");
        await DrainAsync(mini).ConfigureAwait(false);
        Log("  outbox catch-up");
        await OutboxCatchUpAsync(mini).ConfigureAwait(false);
        foreach (int workers in new[] { 2, 4 })
        {
            Log($"  drain, {workers} workers");
            await DrainManyAsync(mini, workers).ConfigureAwait(false);
        }
    }

    private Dictionary<string, string> Env(bool database)
    {
        var env = new Dictionary<string, string> { ["REDIS_URL"] = _servers.RedisUrl };
        if (database) env["DATABASE_URL"] = _servers.DatabaseUrl;
        return env;
    }

    private async Task IdleWithDatabaseAsync(MiniRedis mini)
    {
        using var jobd = JobdProcess.Start(_o.JobdBinary, Env(true));
        _f.Startup.Add(jobd.WaitReady(TimeSpan.FromSeconds(30)).TotalMilliseconds);
        long ready = Stopwatch.GetTimestamp();
        // Idle traffic: what the worker sends once start-up is over (script loads, reclaim and the first tick are
        // start-up), counted from MONITOR so the commands scripts run inside Redis are not taken for round trips.
        using var monitor = new CommandMonitor(_servers.RedisPort, mini);
        Thread.Sleep(_o.IdleSettle);
        monitor.Start();
        long t0 = Stopwatch.GetTimestamp();
        SleepUntil(ready, _o.IdleRssAfter);
        _f.IdleRssDb.Add(jobd.Memory().Rss / MB);
        SleepUntil(t0, _o.IdleCommandsWindow);
        var (sent, breakdown) = monitor.Stop(mini);
        _f.IdleCommands.Add(sent / Stopwatch.GetElapsedTime(t0).TotalSeconds);
        _f.IdleCommands.ReferenceLabel = "last run: " + (sent == 0 ? "none" : breakdown);
        Log("  latency");
        var (p50, p99) = await LatencyAsync(mini).ConfigureAwait(false);
        _f.LatencyP50.Add(p50);
        _f.LatencyP99.Add(p99);
    }

    /// <summary>The same latency measurement with <see cref="StandInWorker"/> in jobd's place: the floor of these hops here.</summary>
    private async Task StandInLatencyAsync(MiniRedis mini)
    {
        mini.Call("FLUSHALL");
        (double P50, double P99) floor;
        using (new StandInWorker(_servers.RedisPort))
            floor = await LatencyAsync(mini).ConfigureAwait(false);
        _f.LatencyP50.References.Add(floor.P50);
        _f.LatencyP99.References.Add(floor.P99);
        mini.Call("FLUSHALL");
    }

    /// <summary>The scheduler, on a worker of its own that counts its round trips (/metrics costs RSS the idle
    /// figures must not carry).</summary>
    private async Task SchedulerAsync(MiniRedis mini)
    {
        int metricsPort = Servers.FreePort();
        var env = Env(true);
        env["JOBD_METRICS_ADDR"] = "127.0.0.1:" + metricsPort.ToString(CultureInfo.InvariantCulture);
        using var jobd = JobdProcess.Start(_o.JobdBinary, env);
        jobd.WaitReady(TimeSpan.FromSeconds(30));
        await DueAsync(mini, metricsPort, _o.DueJobs, _f.DueTime, _f.DueRoundTrips).ConfigureAwait(false);
        await DueAsync(mini, metricsPort, Math.Max(1, _o.DueJobs / 10), null, _f.DueRoundTripsTenth).ConfigureAwait(false);
    }

    /// <summary>
    /// Enqueue-to-start on an idle worker: from the enqueue call starting to this process reading Redis' keyspace
    /// notification that the job's lease was written (take.lua's ZADD on {jobd}:leases). Includes the enqueue round
    /// trip and the notification's delivery, so it is an upper bound; Redis' own timestamps are whole ms.
    /// </summary>
    private async Task<(double P50, double P99)> LatencyAsync(MiniRedis mini)
    {
        mini.Call("CONFIG", "SET", "notify-keyspace-events", "Kz");
        using var sub = new MiniRedis(_servers.RedisPort);
        sub.Call("SUBSCRIBE", "__keyspace@0__:{jobd}:leases");
        await using var client = new RedisClient(new RedisOptions { Host = "127.0.0.1", Port = _servers.RedisPort });
        var producer = new JobProducer(client, new QueueKeys(QueueKeys.PrefixDefault));
        var samples = new List<double>(_o.LatencyJobs);
        var noop = new EnqueueRequest { Type = "noop" };
        await producer.EnqueueAsync(noop).ConfigureAwait(false); // warm-up: script loaded, connection open
        WaitLease(sub);
        for (int i = 0; i < _o.LatencyJobs; i++)
        {
            Thread.Sleep(5); // lets the worker finish and return to its blocking wait: idle again
            long t0 = Stopwatch.GetTimestamp();
            await producer.EnqueueAsync(noop).ConfigureAwait(false);
            WaitLease(sub);
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        mini.Call("CONFIG", "SET", "notify-keyspace-events", "");
        samples.Sort();
        return (Percentile(samples, 0.50), Percentile(samples, 0.99));
    }

    private static void WaitLease(MiniRedis sub)
    {
        while (true)
            if (sub.Read() is object?[] { Length: 3 } m && m[2] as string == "zadd") return;
    }

    /// <summary>
    /// Due jobs moved by the scheduler: N jobs enqueued for one instant 10 s ahead (Redis time) on a queue no worker
    /// serves; then LLEN in a tight loop. Time: from the last poll that saw an empty queue to the first that saw all
    /// N (an upper bound by one poll). Round trips: the worker's own count (loop and control connections) over that
    /// window, from /metrics. No MONITOR here: feeding it every poll slowed Redis (10,000 jobs: 240 ms instead of
    /// the scripts' 30 ms).
    /// </summary>
    private async Task DueAsync(MiniRedis mini, int metricsPort, int count, Figure? time, Figure roundTrips)
    {
        await using var client = new RedisClient(new RedisOptions { Host = "127.0.0.1", Port = _servers.RedisPort });
        var producer = new JobProducer(client, new QueueKeys(QueueKeys.PrefixDefault));
        var now = (object?[])mini.Call("TIME")!;
        long redisMs = long.Parse((string)now[0]!, CultureInfo.InvariantCulture) * 1000 + long.Parse((string)now[1]!, CultureInfo.InvariantCulture) / 1000;
        long dueMs = redisMs + DueLeadSeconds * 1000;
        long localDue = Stopwatch.GetTimestamp() + DueLeadSeconds * Stopwatch.Frequency;
        var runAt = DateTimeOffset.FromUnixTimeMilliseconds(dueMs);
        var batch = new List<EnqueueRequest>(count);
        for (int i = 0; i < count; i++) batch.Add(new EnqueueRequest { Type = "noop", Queue = DueQueue, RunAt = runAt });
        await producer.EnqueueManyAsync(batch).ConfigureAwait(false);
        string queueKey = "{jobd}:q:" + DueQueue;
        if (mini.Long("LLEN", queueKey) != 0) throw new InvalidOperationException("due jobs moved before the enqueue ended: raise the lead time");
        while (Stopwatch.GetTimestamp() < localDue - Stopwatch.Frequency / 5) Thread.Sleep(10);
        long tripsBefore = MetricsScrape.RoundTrips(metricsPort, "control") + MetricsScrape.RoundTrips(metricsPort, "loop");
        long lastEmpty = Stopwatch.GetTimestamp(), full = 0;
        var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            long t = Stopwatch.GetTimestamp();
            long n = mini.Long("LLEN", queueKey);
            if (n == 0) lastEmpty = t;
            else if (n >= count) { full = Stopwatch.GetTimestamp(); break; }
        }
        if (full == 0) throw new InvalidOperationException($"the scheduler did not move {count} due jobs in 60 s");
        long trips = MetricsScrape.RoundTrips(metricsPort, "control") + MetricsScrape.RoundTrips(metricsPort, "loop") - tripsBefore;
        time?.Add(Stopwatch.GetElapsedTime(lastEmpty, full).TotalMilliseconds);
        roundTrips.Add(trips);
        mini.Call("DEL", queueKey);
    }

    private void IdleWithoutDatabase()
    {
        using var jobd = JobdProcess.Start(_o.JobdBinary, Env(false));
        jobd.WaitReady(TimeSpan.FromSeconds(30));
        Thread.Sleep(_o.IdleRssAfter);
        _f.IdleRssNoDb.Add(jobd.Memory().Rss / MB);
    }

    private async Task EnqueueNoopsAsync(int count)
    {
        await using var client = new RedisClient(new RedisOptions { Host = "127.0.0.1", Port = _servers.RedisPort });
        var producer = new JobProducer(client, new QueueKeys(QueueKeys.PrefixDefault));
        var batch = new List<EnqueueRequest>(1000);
        for (int done = 0; done < count; done += batch.Count)
        {
            batch.Clear();
            for (int i = 0; i < Math.Min(1000, count - done); i++) batch.Add(new EnqueueRequest { Type = "noop" });
            await producer.EnqueueManyAsync(batch).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// PRODUCT.md's throughput figure: one worker without DATABASE_URL drains N no-op jobs enqueued before it
    /// started; the reference is redis-benchmark -c 1 -P 1 PING right after, on the same server.
    /// </summary>
    private async Task DrainWithoutDatabaseAsync(MiniRedis mini)
    {
        mini.Call("FLUSHALL");
        await EnqueueNoopsAsync(_o.DrainJobs).ConfigureAwait(false);
        using (var jobd = JobdProcess.Start(_o.JobdBinary, Env(false)))
            _f.Throughput1.Add(Sample(mini, [jobd], _o.DrainJobs, Stopwatch.GetTimestamp(), new List<DrainSample>()));
        mini.Call("FLUSHALL");
        await EnqueueNoopsAsync(_o.DrainJobs).ConfigureAwait(false);
        _f.StandInThroughput.Add(StandInWorker.Drain(_servers.RedisPort));
        _f.StandInThroughput.References.Add(_f.Throughput1.Values[^1]);
        double ping = RedisBenchmarkTool.Run(_servers.RedisPort, ["-t", "ping_mbulk"], _o.PingRequests);
        _f.Throughput1.References.Add(ping);
        _f.ThroughputRatio.Add(_f.Throughput1.Values[^1] / ping);
    }

    /// <summary>
    /// One worker with DATABASE_URL drains N no-op jobs enqueued before it started. Samples every 100 ms (done
    /// counter, RSS) make the chart; throughput is (done at the end − done at the first sample showing progress)
    /// over the time between those samples.
    /// </summary>
    private async Task DrainAsync(MiniRedis mini)
    {
        mini.Call("FLUSHALL");
        Psql("DROP SCHEMA IF EXISTS jobd CASCADE"); // the outcome figures count this drain's rows only
        await EnqueueNoopsAsync(_o.DrainJobs).ConfigureAwait(false);
        var samples = new List<DrainSample>();
        long hwm;
        using (var jobd = JobdProcess.Start(_o.JobdBinary, Env(true)))
        {
            long t0 = Stopwatch.GetTimestamp();
            double rate = Sample(mini, [jobd], _o.DrainJobs, t0, samples);
            hwm = jobd.Memory().Hwm;
            _f.ThroughputDb.Add(rate);
            _f.ThroughputDb.References.Add(_f.Throughput1.Values[^1]);
            _f.PeakRss.Add(hwm / MB);
            long finishedAt = Stopwatch.GetTimestamp();
            Outcomes(finishedAt);
        }
        _f.Workers2.References.Add(_f.ThroughputDb.Values[^1]);
        _f.Workers4.References.Add(_f.ThroughputDb.Values[^1]);
        _chart.Clear();
        _chart.AddRange(samples); // the chart shows the last run's drain
    }

    private async Task DrainManyAsync(MiniRedis mini, int workers)
    {
        mini.Call("FLUSHALL");
        await EnqueueNoopsAsync(_o.DrainJobs).ConfigureAwait(false);
        var procs = new List<JobdProcess>();
        try
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < workers; i++) procs.Add(JobdProcess.Start(_o.JobdBinary, Env(true)));
            double rate = Sample(mini, procs, _o.DrainJobs, t0, new List<DrainSample>());
            (workers == 2 ? _f.Workers2 : _f.Workers4).Add(rate);
        }
        finally
        {
            foreach (var p in procs) p.Dispose();
        }
    }

    private static double Sample(MiniRedis mini, List<JobdProcess> procs, int total, long t0, List<DrainSample> samples)
    {
        long firstT = 0, firstDone = 0;
        var deadline = Stopwatch.GetTimestamp() + 600 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            long t = Stopwatch.GetTimestamp();
            long done = mini.Long("HGET", "{jobd}:stats", "done");
            long rss = 0;
            foreach (var p in procs) rss += p.Memory().Rss;
            samples.Add(new DrainSample(Stopwatch.GetElapsedTime(t0, t).TotalSeconds, done, rss / MB));
            if (done > 0 && firstT == 0) { firstT = t; firstDone = done; }
            if (done >= total)
            {
                double secs = Stopwatch.GetElapsedTime(firstT, t).TotalSeconds;
                return secs > 0 ? (done - firstDone) / secs : double.NaN;
            }
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"jobs not drained in 600 s:\n{procs[0].Stderr}");
    }

    /// <summary>
    /// Outcome figures from jobd.outcomes (the sink's contract): rows/s = rows over (last recorded_at − first
    /// finished_at); lag p99 and max of recorded_at − finished_at over the middle 80% of rows by finish time
    /// (steady state); tail = last recorded_at − last finished_at.
    /// </summary>
    private void Outcomes(long drainedAt)
    {
        if (Psql("SELECT to_regclass('jobd.outcomes') IS NOT NULL") != "t")
        {
            const string why = "n/a (no outcome sink: jobd.outcomes missing)";
            _f.OutcomeRate.Missing = _f.OutcomeLagP99.Missing = _f.OutcomeLagMax.Missing = _f.OutcomeTail.Missing = why;
            return;
        }
        long previous = -1;
        while (Stopwatch.GetElapsedTime(drainedAt).TotalSeconds < 30)
        {
            long n = long.Parse(Psql("SELECT count(*) FROM jobd.outcomes"), CultureInfo.InvariantCulture);
            if (n >= _o.DrainJobs || n == previous) break;
            previous = n;
            Thread.Sleep(500);
        }
        var row = Psql(
            "WITH o AS (SELECT finished_at, recorded_at, extract(epoch FROM recorded_at - finished_at) AS lag, " +
            "ntile(10) OVER (ORDER BY finished_at) AS decile FROM jobd.outcomes) " +
            "SELECT count(*) / greatest(extract(epoch FROM max(recorded_at) - min(finished_at)), 0.001), " +
            "(SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) FROM o WHERE decile BETWEEN 2 AND 9), " +
            "(SELECT max(lag) FROM o WHERE decile BETWEEN 2 AND 9), " +
            "extract(epoch FROM max(recorded_at) - max(finished_at)) FROM o").Split('|');
        _f.OutcomeRate.References.Add(D(row[0]));
        _f.OutcomeLagP99.Add(D(row[1]) * 1000);
        _f.OutcomeLagMax.Add(D(row[2]) * 1000);
        _f.OutcomeTail.Add(D(row[3]) * 1000);
    }

    private static void SleepUntil(long start, TimeSpan after)
    {
        var rest = after - Stopwatch.GetElapsedTime(start);
        if (rest > TimeSpan.Zero) Thread.Sleep(rest);
    }

    /// <summary>
    /// The sink's own rate, not the job rate: N outcomes pile up in the outbox while a worker runs N no-op jobs with
    /// Postgres unreachable (a closed port), then a fresh worker with the real DATABASE_URL drains them. Rate: rows
    /// after the first batch over the time from the first batch's commit to the last's (recorded_at is the commit's).
    /// </summary>
    private async Task OutboxCatchUpAsync(MiniRedis mini)
    {
        mini.Call("FLUSHALL");
        Psql("DROP SCHEMA IF EXISTS jobd CASCADE");
        await EnqueueNoopsAsync(_o.DrainJobs).ConfigureAwait(false);
        var env = Env(false);
        env["DATABASE_URL"] = $"postgres://jobd@127.0.0.1:{Servers.FreePort()}/postgres";
        env["JOBD_OUTBOX_MAX"] = (_o.DrainJobs + 1000).ToString(CultureInfo.InvariantCulture);
        using (var blind = JobdProcess.Start(_o.JobdBinary, env))
            Sample(mini, [blind], _o.DrainJobs, Stopwatch.GetTimestamp(), new List<DrainSample>());
        long waiting = mini.Long("XLEN", "{jobd}:outbox");
        if (waiting != _o.DrainJobs) throw new InvalidOperationException($"outbox holds {waiting} outcomes, not {_o.DrainJobs}");
        using var sink = JobdProcess.Start(_o.JobdBinary, Env(true));
        sink.WaitReady(TimeSpan.FromSeconds(30));
        var deadline = Stopwatch.GetTimestamp() + 120 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (Psql("SELECT to_regclass('jobd.outcomes') IS NOT NULL") == "t" &&
                long.Parse(Psql("SELECT count(*) FROM jobd.outcomes"), CultureInfo.InvariantCulture) >= _o.DrainJobs) break;
            Thread.Sleep(200);
        }
        var row = Psql("SELECT count(*) FILTER (WHERE recorded_at > (SELECT min(recorded_at) FROM jobd.outcomes)) / " +
            "greatest(extract(epoch FROM max(recorded_at) - min(recorded_at)), 0.001), count(*) FROM jobd.outcomes").Split('|');
        if (long.Parse(row[1], CultureInfo.InvariantCulture) != _o.DrainJobs)
            throw new InvalidOperationException($"the sink wrote {row[1]} of {_o.DrainJobs} outcomes in 120 s");
        _f.OutcomeRate.Add(D(row[0]));
    }

    private static double D(string s) => s.Length == 0 ? double.NaN : double.Parse(s, CultureInfo.InvariantCulture);

    private string Psql(string sql)
    {
        var psi = new ProcessStartInfo("psql") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", _servers.PgPort.ToString(CultureInfo.InvariantCulture), "-U", "jobd", "-d", "postgres", "-c", sql })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start psql");
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("psql: " + err.Result.Trim());
        return output.Trim();
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static void Log(string line) => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");
}

internal readonly record struct DrainSample(double Seconds, long Done, double RssMb);
