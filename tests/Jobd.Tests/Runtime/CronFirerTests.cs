using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;
using Jobd.Runtime;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Runtime;

/// <summary>
/// CronFirer against a real Redis, with a manual monotonic clock: the clock moves only when the test says, and
/// Redis' own clock is the truth the firer must follow.
/// </summary>
public sealed class CronFirerTests : IAsyncLifetime
{
    private RedisTestDatabase _db = null!;
    private RedisClient _redis = null!;
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
    private readonly List<(string Name, DateTime Fire, CronFireStatus Status)> _attempts = new();

    public async Task InitializeAsync()
    {
        _db = await TestRedis.LeaseAsync();
        RedisOptions.TryParseUrl(_db.Url, out var options, out _);
        _redis = new RedisClient(options!);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _db.Dispose();
    }

    private CronFirer Firer(params (string, string)[] vars)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in vars) env[k] = v;
        var config = ConfigLoader.Load(env);
        var log = new Log(Stream.Null, LogFormat.Text, LogLevel.Debug, _clock);
        return new CronFirer(_redis, config.Keys, config.Cron, log, logJobs: true, _clock)
        {
            Attempted = (name, fire, status) => _attempts.Add((name, fire, status)),
        };
    }

    private long RedisNowMs()
    {
        using var p = _db.Probe();
        var t = (object?[])p.Call("TIME")!;
        return long.Parse((string)t[0]!, CultureInfo.InvariantCulture) * 1000 + long.Parse((string)t[1]!, CultureInfo.InvariantCulture) / 1000;
    }

    private long QueueLength(string queue)
    {
        using var p = _db.Probe();
        return (long)p.Call("LLEN", "{jobd}:q:" + queue)!;
    }

    [Fact]
    public async Task After_an_hour_of_downtime_a_per_second_schedule_catches_up_one_fire_not_a_burst()
    {
        using (var p = _db.Probe()) p.Call("HSET", "{jobd}:cron", "TICK", (RedisNowMs() - 3_600_000).ToString(CultureInfo.InvariantCulture));
        var firer = Firer(("JOBD_CRON_TICK", "* * * * * * noop queue=c"));
        long before = RedisNowMs();
        var wait = await firer.RunAsync(CancellationToken.None);

        Assert.Single(_attempts);
        Assert.Equal(CronFireStatus.Enqueued, _attempts[0].Status);
        long fireMs = (_attempts[0].Fire.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
        Assert.InRange(fireMs, before - 2000, RedisNowMs());
        Assert.Equal(1, QueueLength("c"));
        Assert.InRange(wait, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));

        // No time has passed on the firer's clock: nothing is due, nothing is sent.
        await firer.RunAsync(CancellationToken.None);
        Assert.Single(_attempts);
    }

    [Fact]
    public async Task With_catchup_0_a_fire_missed_by_more_than_10_seconds_is_skipped()
    {
        // A minutely fire 30 s ago (give or take the test's own seconds).
        var second = DateTimeOffset.FromUnixTimeMilliseconds(RedisNowMs() - 30_000).Second.ToString(CultureInfo.InvariantCulture);
        var firer = Firer(("JOBD_CRON_LATE", second + " * * * * * noop queue=c"), ("JOBD_CRON_CATCHUP", "0"));
        var wait = await firer.RunAsync(CancellationToken.None);
        Assert.Empty(_attempts);
        Assert.Equal(0, QueueLength("c"));
        Assert.InRange(wait, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task A_firer_whose_clock_runs_ahead_of_redis_claims_nothing_early_and_resyncs()
    {
        var firer = Firer(("JOBD_CRON_TICK", "* * * * * * noop queue=c"), ("JOBD_CRON_CATCHUP", "0"));
        await firer.RunAsync(CancellationToken.None);
        long afterFirst = QueueLength("c");

        // The monotonic clock says 30 s passed; Redis says a moment did.
        _clock.Advance(TimeSpan.FromSeconds(30));
        var wait = await firer.RunAsync(CancellationToken.None);
        Assert.Equal(CronFireStatus.Early, _attempts[^1].Status);
        Assert.Equal(afterFirst, QueueLength("c"));
        // Re-synced: it now waits for that fire time by Redis' clock (the oldest within the 10 s late limit of
        // what it thought was now, so about 20 s away) instead of firing it.
        Assert.InRange(wait, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(31));
        using var p = _db.Probe();
        var last = (string?)p.Call("HGET", "{jobd}:cron", "TICK");
        Assert.True(last is null || long.Parse(last, CultureInfo.InvariantCulture) <= RedisNowMs());
    }

    [Fact]
    public async Task Two_firers_on_one_redis_enqueue_each_fire_time_once()
    {
        var a = Firer(("JOBD_CRON_TICK", "* * * * * * noop queue=c"));
        var b = Firer(("JOBD_CRON_TICK", "* * * * * * noop queue=c"));
        await a.RunAsync(CancellationToken.None);
        await b.RunAsync(CancellationToken.None);
        // Both tried the latest fire; the second second may have begun in between, then each enqueued its own.
        Assert.Equal(2, _attempts.Count);
        var enqueued = new HashSet<DateTime>();
        foreach (var (_, fire, status) in _attempts)
        {
            if (status == CronFireStatus.Enqueued) Assert.True(enqueued.Add(fire));
            else Assert.Equal(CronFireStatus.AlreadyFired, status);
        }
        Assert.Equal(_attempts[0].Fire == _attempts[1].Fire ? 1 : 2, enqueued.Count);
        Assert.Equal(enqueued.Count, QueueLength("c"));
    }
}
