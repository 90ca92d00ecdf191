using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>
/// Cron through the published binary: each fire time one job across replicas (also through a rolling restart and a
/// kill -9), catch-up of at most one missed fire, `jobd cron list`, and bad schedules refused at start.
/// </summary>
public sealed class CronTests : WorkerTest
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);

    // The fired jobs go to a queue no worker takes from, so the queue list is the exact record of enqueues:
    // a fire enqueued twice would be there twice.
    private static readonly (string, string)[] PerSecond =
    {
        ("JOBD_CRON_TICK", "* * * * * * noop {\"from\": \"cron\"} queue=cronq"),
        ("JOBD_QUEUES", "default"),
    };

    private static long UnixMs(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    private List<long> EnqueuedFireTimes(string name, string queue)
    {
        using var p = Db.Probe();
        var ids = (object?[])p.Call("LRANGE", "{jobd}:q:" + queue, "0", "-1")!;
        var times = new List<long>();
        foreach (var id in ids)
        {
            var s = (string)id!;
            Assert.StartsWith("cron:" + name + ":", s);
            times.Add(long.Parse(s[(name.Length + 6)..], CultureInfo.InvariantCulture));
        }
        times.Sort();
        return times;
    }

    private static int CountLines(ChildProcess p, string contains)
    {
        int n = 0;
        foreach (var l in p.Stderr.Snapshot()) if (l.Contains(contains, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>
    /// The issue's test: three replicas on a per-second schedule for about a minute, through a rolling restart
    /// (SIGTERM, wait for the exit, start again, as a deploy or `systemctl restart` does) and a crash (kill -9, a
    /// new replica three seconds later). The queue is the exact record: every second from the first fire to the
    /// last is there, each exactly once.
    /// </summary>
    [Fact]
    public async Task Three_replicas_enqueue_each_fire_of_a_per_second_schedule_exactly_once_for_a_minute_of_restarts_and_a_kill()
    {
        var launched = DateTime.UtcNow;
        var replicas = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < 3; i++) replicas.Add(await H.StartWorkerAsync(PerSecond));
            await Task.Delay(TimeSpan.FromSeconds(15));

            var rolled = replicas[0];
            rolled.Signal(ChildProcess.SIGTERM);
            Assert.Equal(0, await rolled.WaitForExitAsync(Quick));
            replicas.Add(await H.StartWorkerAsync(PerSecond));
            await Task.Delay(TimeSpan.FromSeconds(15));

            var killed = replicas[1];
            killed.Signal(ChildProcess.SIGKILL);
            await killed.WaitForExitAsync(Quick);
            await Task.Delay(TimeSpan.FromSeconds(3));
            replicas.Add(await H.StartWorkerAsync(PerSecond));
            await Task.Delay(TimeSpan.FromSeconds(20));

            foreach (var r in replicas)
                if (!r.HasExited) r.Signal(ChildProcess.SIGTERM);
            foreach (var r in replicas) Assert.True(r.HasExited || await r.WaitForExitAsync(Quick) == 0);
            var stopped = DateTime.UtcNow;

            var times = EnqueuedFireTimes("TICK", "cronq");
            // About 55 s of fires: every second from the first to the last, each exactly once.
            Assert.InRange(times.Count, 45, 100);
            for (int i = 1; i < times.Count; i++)
                Assert.True(times[i] - times[i - 1] == 1000, $"fires {times[i - 1]} and {times[i]} are not one second apart (a fire missing or enqueued twice)");
            // The first replica caught up at most the one fire before it started, not a minute of them.
            Assert.InRange(times[0], UnixMs(launched) - 2000, UnixMs(stopped));
            Assert.True(times[^1] <= UnixMs(stopped));

            // The replicas' own account agrees: no fire is logged as enqueued by two of them. The kill -9 may take
            // the line of its last fire with it (the log is written after the enqueue), so one may be missing.
            var fired = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in replicas)
                foreach (var l in r.Stderr.Snapshot())
                {
                    int at = l.IndexOf(" as job cron:TICK:", StringComparison.Ordinal);
                    if (!l.Contains("cron: TICK fired for ", StringComparison.Ordinal) || at < 0) continue;
                    var id = l[(at + 8)..l.IndexOf(' ', at + 8)];
                    Assert.True(fired.Add(id), $"{id} logged as fired twice");
                }
            Assert.InRange(fired.Count, times.Count - 1, times.Count);
            foreach (var r in replicas) Assert.Equal(1, CountLines(r, "cron: 1 schedule(s) in UTC, catch-up 1m; next TICK at "));
            using var p = Db.Probe();
            Assert.Equal(times[^1].ToString(CultureInfo.InvariantCulture), (string?)p.Call("HGET", "{jobd}:cron", "TICK"));
        }
        finally
        {
            foreach (var r in replicas) await r.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_replica_whose_clock_is_five_minutes_ahead_fires_nothing_early_and_nothing_twice()
    {
        // RELIABILITY.md C1: the skewed replica's wall clock is faked, its monotonic clock is not.
        const string FakeTime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
        if (!System.IO.File.Exists(FakeTime)) throw new InvalidOperationException("libfaketime is not installed (apt-get install faketime)");
        var launched = DateTime.UtcNow;
        await using var honest = await H.StartWorkerAsync(PerSecond);
        var env = JobdBinary.Env(("REDIS_URL", Db.Url), ("JOBD_LOG_JOBS", "1"), PerSecond[0], PerSecond[1],
            ("LD_PRELOAD", FakeTime), ("FAKETIME", "+300s"), ("FAKETIME_DONT_FAKE_MONOTONIC", "1"));
        await using var skewed = JobdBinary.Start(new[] { "run" }, env);
        var ready = await skewed.Stderr.WaitAsync(l => l.Contains(" ready: queues", StringComparison.Ordinal), WorkerHarness.Startup, "the skewed worker to be ready");
        // The fake is in force: its log lines are stamped five minutes ahead.
        var stamped = DateTime.Parse(ready[..ready.IndexOf(' ')], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.InRange(stamped - DateTime.UtcNow, TimeSpan.FromSeconds(280), TimeSpan.FromSeconds(320));
        await Task.Delay(TimeSpan.FromSeconds(6));
        var stopped = DateTime.UtcNow;
        skewed.Signal(ChildProcess.SIGTERM);
        honest.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await skewed.WaitForExitAsync(Quick));
        Assert.Equal(0, await honest.WaitForExitAsync(Quick));

        var times = EnqueuedFireTimes("TICK", "cronq");
        Assert.InRange(times.Count, 5, 30);
        for (int i = 1; i < times.Count; i++) Assert.Equal(1000, times[i] - times[i - 1]);
        Assert.InRange(times[0], UnixMs(launched) - 2000, UnixMs(stopped));
        // Nothing claimed ahead of Redis' (the real) clock: the last fire is not after the stop.
        Assert.True(times[^1] <= UnixMs(stopped) + 1000, $"fire {times[^1]} claimed before its time (stopped at {UnixMs(stopped)})");
        // And the skewed replica did fire its share, in the faked log clock's future but at the real times.
        int fired = CountLines(honest, "cron: TICK fired for ") + CountLines(skewed, "cron: TICK fired for ");
        Assert.Equal(times.Count, fired);
    }

    [Fact]
    public async Task After_downtime_only_the_latest_missed_fire_is_caught_up_and_with_catchup_0_none()
    {
        // A minutely schedule whose latest fire was 30 s ago, and a record that it last fired an hour ago.
        var now = DateTime.UtcNow;
        var second = (now.AddSeconds(-30).Second).ToString(CultureInfo.InvariantCulture);
        using (var p = Db.Probe()) p.Call("HSET", "{jobd}:cron", "MISSED", UnixMs(now.AddHours(-1)).ToString(CultureInfo.InvariantCulture));
        var schedule = ("JOBD_CRON_MISSED", second + " * * * * * noop queue=cronq");

        await using (var off = await H.StartWorkerAsync(schedule, ("JOBD_QUEUES", "default"), ("JOBD_CRON_CATCHUP", "0")))
        {
            await WorkerHarness.LogLineAsync(off, "cron: 1 schedule(s) in UTC, catch-up 0s", Quick);
            // Nothing to await for a fire that must not happen: give the ticker time to have done it.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Empty(EnqueuedFireTimes("MISSED", "cronq"));
        }

        await using var on = await H.StartWorkerAsync(schedule, ("JOBD_QUEUES", "default"));
        await WorkerHarness.LogLineAsync(on, "cron: MISSED fired for ", Quick);
        var times = EnqueuedFireTimes("MISSED", "cronq");
        Assert.Single(times);
        Assert.InRange(UnixMs(DateTime.UtcNow) - times[0], 20_000, 59_000);
    }

    [Fact]
    public async Task Cron_list_shows_next_fire_in_the_zone_and_utc_and_the_last_fire_from_redis()
    {
        var last = new DateTime(2026, 11, 20, 8, 0, 0, DateTimeKind.Utc);
        using (var p = Db.Probe()) p.Call("HSET", "{jobd}:cron", "DIGEST", UnixMs(last).ToString(CultureInfo.InvariantCulture));
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var env = new[]
        {
            ("REDIS_URL", Db.Url), ("JOBD_CRON_TZ", "Europe/Berlin"),
            ("JOBD_CRON_DIGEST", "0 9 * * * send_digest {\"to\": \"ops\"} queue=low"),
            ("JOBD_CRON_NEVER_RAN", "@yearly noop"),
        };
        var before = DateTime.UtcNow;
        await using var list = JobdBinary.Start(new[] { "cron", "list" }, JobdBinary.Env(env));
        Assert.Equal(0, await list.WaitForExitAsync(Quick));
        var text = string.Join('\n', list.Stdout.Snapshot());

        // The next 09:00 in Berlin after `before` (a few seconds either side cannot cross 09:00 but in a rare run).
        var local = TimeZoneInfo.ConvertTimeFromUtc(before, zone);
        var nextLocal = local.Date.AddHours(9) > local ? local.Date.AddHours(9) : local.Date.AddDays(1).AddHours(9);
        var nextUtc = TimeZoneInfo.ConvertTimeToUtc(nextLocal, zone);
        var offset = zone.GetUtcOffset(nextUtc);
        Assert.Contains("zone Europe/Berlin, catch-up 1m", text);
        Assert.Matches(@"NAME\s+EXPRESSION\s+TYPE\s+QUEUE\s+NEXT \(Europe/Berlin\)\s+NEXT \(UTC\)\s+LAST FIRE", text);
        string Row(params string[] cells) => string.Join(@"\s+", Array.ConvertAll(cells, System.Text.RegularExpressions.Regex.Escape));
        Assert.Matches(Row("DIGEST", "0 9 * * *", "send_digest", "low", $"{nextLocal:yyyy-MM-dd'T'HH:mm:ss}+{offset:hh\\:mm}",
            $"{nextUtc:yyyy-MM-dd'T'HH:mm:ss}Z", "2026-11-20T09:00:00+01:00 (2026-11-20T08:00:00Z)"), text);
        Assert.Matches(Row("NEVER_RAN", "@yearly", "noop", "default", $"{before.Year + 1}-01-01T00:00:00+01:00",
            $"{before.Year}-12-31T23:00:00Z", "never") + "$", text);
        Assert.Empty(list.Stderr.Snapshot());

        // Without Redis the list is still printed, the last fires unknown.
        env[0] = ("REDIS_URL", $"redis://127.0.0.1:{FreePort.Next()}/0");
        await using var offline = JobdBinary.Start(new[] { "cron" }, JobdBinary.Env(env));
        Assert.Equal(0, await offline.WaitForExitAsync(Quick));
        var offlineText = string.Join('\n', offline.Stdout.Snapshot());
        Assert.Contains("last fires unknown: redis unavailable", offlineText);
        Assert.Contains($"{nextUtc:yyyy-MM-dd'T'HH:mm:ss}Z  unknown (redis unreachable)", offlineText);
    }

    [Theory]
    [InlineData("JOBD_CRON_REPORT", "0 0 30 2 * noop", "JOBD_CRON_REPORT: cron expression \"0 0 30 2 *\" never fires")]
    [InlineData("JOBD_CRON_REPORT", "61 * * * * noop", "JOBD_CRON_REPORT: cron expression \"61 * * * *\": minute \"61\" is out of range 0-59")]
    [InlineData("JOBD_CRON_TZ", "Europe/Atlantis", "JOBD_CRON_TZ: \"Europe/Atlantis\" is not a time zone")]
    public async Task A_bad_schedule_stops_start_up_with_exit_78_and_one_line(string name, string value, string want)
    {
        var env = JobdBinary.Env(("REDIS_URL", Db.Url), (name, value), ("JOBD_CRON_OK", "@hourly noop"));
        await using var run = JobdBinary.Start(new[] { "run" }, env);
        Assert.Equal(78, await run.WaitForExitAsync(Quick));
        var err = run.Stderr.Snapshot();
        Assert.Single(err);
        Assert.Equal("jobd: configuration error: " + want, err[0][..Math.Min(err[0].Length, ("jobd: configuration error: " + want).Length)]);
    }
}
