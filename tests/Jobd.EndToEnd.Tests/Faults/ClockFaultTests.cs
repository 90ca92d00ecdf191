using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// The worker's clock stepped mid-run (RELIABILITY.md C2, C3): jobd runs under libfaketime reading a timestamp
/// file (FAKETIME_NO_CACHE=1: read at every call), its monotonic clock left real, and the test rewrites the file
/// as NTP or an operator stepping the machine's clock would. jobd measures timeouts on the monotonic clock and
/// schedules, leases and cron fires on Redis' clock, so a step of its own clock must change nothing. Redis' own
/// clock cannot be stepped here: libfaketime aborts Debian's redis-server at start (its jemalloc calls
/// clock_gettime before libfaketime is initialised); what a jump of Redis' time does to cron (one catch-up fire,
/// no burst) is CronFirerTests.After_an_hour_of_downtime_a_per_second_schedule_catches_up_one_fire_not_a_burst.
/// </summary>
public sealed class ClockFaultTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);
    private const string Cron = "* * * * * * ledger {\"ms\":0}"; // every second

    /// <summary>The timestamp file and the environment that makes a process read its clock from it.</summary>
    private sealed class SteppedClock : IDisposable
    {
        private readonly string _file = Path.Combine(Path.GetTempPath(), "jobd-faketime-" + Guid.NewGuid().ToString("N"));

        public SteppedClock() => Set("+0");

        public (string, string)[] WorkerEnv(params (string, string)[] extra)
        {
            var all = new List<(string, string)>(extra)
            {
                ("LD_PRELOAD", OpsFaultTests.FakeTime), ("FAKETIME_TIMESTAMP_FILE", _file),
                ("FAKETIME_NO_CACHE", "1"), ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            };
            return all.ToArray();
        }

        /// <summary>Replaced by a rename, so a reader never sees a half-written offset.</summary>
        public void Set(string offset)
        {
            File.WriteAllText(_file + ".new", offset + "\n");
            File.Move(_file + ".new", _file, overwrite: true);
        }

        public void Dispose() => File.Delete(_file);
    }

    private static List<long> CronFires(FaultRun run)
    {
        using var p = run.Probe();
        var fires = new List<long>();
        foreach (var k in (object?[])p.Call("KEYS", "{jobd}:job:cron:SEC:*")!)
            fires.Add(long.Parse(((string)k!)[("{jobd}:job:cron:SEC:".Length)..], CultureInfo.InvariantCulture));
        fires.Sort();
        return fires;
    }

    private static async Task WaitForFiresAsync(FaultRun run, int count)
    {
        var deadline = DateTime.UtcNow + Drain;
        while (CronFires(run).Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"fewer than {count} cron fires");
            await Task.Delay(100);
        }
    }

    private static async Task<string> AnyLineAsync(IReadOnlyList<ChildProcess> workers, string contains)
    {
        var waits = new List<Task<string>>();
        foreach (var w in workers) waits.Add(WorkerHarness.LogLineAsync(w, contains, Drain));
        return await await Task.WhenAny(waits);
    }

    /// <summary>
    /// Two workers under one stepped clock, an every-second cron schedule, 100 jobs with retries before the step
    /// and 100 after, and a job with a 1 s timeout running across the step. Returns what the step changed.
    /// </summary>
    private static async Task<(TimeSpan TimedOutAfter, int FiresAfter, double Seconds)> StepAsync(string scenario, string offset)
    {
        if (!File.Exists(OpsFaultTests.FakeTime)) throw new InvalidOperationException("libfaketime is not installed (packaging/dev/deps.sh installs faketime)");
        using var clock = new SteppedClock();
        await using var run = await FaultRun.StartAsync(scenario);
        var env = clock.WorkerEnv(("JOBD_CRON_SEC", Cron));
        var workers = new[] { await run.StartWorkerAsync(env), await run.StartWorkerAsync(env) };
        await run.EnqueueAsync(100, i => (i % 5, i % 4 == 0 ? 2 : 0));
        await WaitForFiresAsync(run, 3);

        var slow = (await new WorkerHarness(run.RedisUrl, run.Probe).EnqueueAsync("{\"type\":\"ledger\",\"args\":{\"ms\":5000},\"timeout\":\"1s\",\"max_attempts\":1}\n"))[0];
        run.Adopt(new[] { slow });
        await AnyLineAsync(workers, $"job {slow} ledger started");
        var sinceStart = Stopwatch.StartNew();
        int firesBefore = CronFires(run).Count;
        clock.Set(offset);
        run.Record(FaultKind.Other, 0, "worker clock stepped " + offset + " s");
        var sinceStep = Stopwatch.StartNew();
        await AnyLineAsync(workers, $"job {slow} failed for good");
        var timedOutAfter = sinceStart.Elapsed;
        Assert.True(timedOutAfter < TimeSpan.FromSeconds(10), $"the 1 s timeout took {timedOutAfter.TotalSeconds:0.0} s");

        await run.EnqueueAsync(100, i => (i % 5, i % 4 == 0 ? 2 : 0));
        await run.DrainAsync(Drain);
        await Task.Delay(3000);
        var fires = CronFires(run);
        double seconds = sinceStep.Elapsed.TotalSeconds;
        int firesAfter = fires.Count - firesBefore;
        // By Redis' clock, one a second on: no pause (a step back), no burst (a step forward), no repeat.
        Assert.InRange(firesAfter, (int)seconds - 3, (int)seconds + 3);
        for (int i = 1; i < fires.Count; i++) Assert.Equal(1000, fires[i] - fires[i - 1]);
        run.Adopt(IdsOf(fires));
        await run.CheckAsync();
        Assert.Equal(0, run.CountLines("recovered job "));
        Assert.Equal(0, run.CountLines("lease lost"));
        return (timedOutAfter, firesAfter, seconds);
    }

    [Fact]
    public async Task C2_a_worker_clock_stepped_back_an_hour_fires_cron_on_time_and_times_out_by_the_monotonic_clock()
    {
        var (timedOut, fires, seconds) = await StepAsync("C2", "-3600");
        FaultTable.Record("C2", "the clock of both workers stepped back 1 h mid-run (libfaketime timestamp file, monotonic clock real); an every-second cron schedule; a job with a 1 s timeout running across the step",
            $"the timeout fired {timedOut.TotalSeconds:0.0} s after the job started (monotonic clock); cron went on by Redis' clock: {fires} fires in the {seconds:0} s after the step, one a second, none repeated; no recovery, no lease lost; 200 jobs with retries done. Redis' own clock cannot be stepped here (libfaketime aborts Debian's jemalloc redis-server)",
            "I1–I5 hold");
    }

    [Fact]
    public async Task C3_a_worker_clock_stepped_forward_a_day_fires_no_burst()
    {
        var (timedOut, fires, seconds) = await StepAsync("C3", "+86400");
        FaultTable.Record("C3", "the clock of both workers stepped forward 1 day mid-run (libfaketime timestamp file, monotonic clock real); an every-second cron schedule, catch-up 1 m",
            $"no burst: {fires} fires in the {seconds:0} s after the step, one a second by Redis' clock (not 86,400); the 1 s timeout fired after {timedOut.TotalSeconds:0.0} s; no recovery; 200 jobs done. A jump of Redis' clock (or downtime) catches up one fire, not a burst: CronFirerTests.After_an_hour_of_downtime_a_per_second_schedule_catches_up_one_fire_not_a_burst",
            "I1–I5 hold");
    }

    private static IEnumerable<string> IdsOf(List<long> fires)
    {
        foreach (var f in fires) yield return "cron:SEC:" + f.ToString(CultureInfo.InvariantCulture);
    }
}
