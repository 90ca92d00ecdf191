using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Cron;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// Fires the cron schedules, called by the control ticker on each tick on the ticker's own connection. Duties:
/// 1. keep an estimate of Redis' clock (the monotonic clock since the last reading, read by TIME once at start and
///    by every cron_fire reply), so that a replica whose wall clock is skewed or stepped still fires on time;
/// 2. for each schedule that is due, enqueue its latest due fire time through cron_fire.lua, which lets exactly one
///    replica enqueue each fire time; a fire older than the catch-up window (at least 10 s) is skipped, and only
///    the latest due time is tried, so downtime, a Redis outage or an edited expression never cause a burst;
/// 3. tell the ticker how long until the next fire, so that it wakes then.
/// It sends no command while nothing is due. A failed fire is logged on change of state and tried again at the
/// next call; it never throws (but for cancellation).
/// </summary>
public sealed class CronFirer
{
    /// <summary>How far ahead of Redis' clock a fire may be claimed: more than the clock estimate's error.</summary>
    public const long EarlyMs = 1000;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);
    private static readonly PreparedCommand Time = PreparedCommand.Create("TIME");

    private readonly RedisClient _redis;
    private readonly QueueKeys _keys;
    private readonly CronSettings _settings;
    private readonly Log _log;
    private readonly LogLevel _fireLevel;
    private readonly TimeProvider _clock;
    private readonly RedisBatch _batch = new();
    private readonly DateTime[] _done;
    private readonly DateTime[] _next;
    private long _anchorRedisMs;
    private long _anchorTimestamp;
    private bool _synced;
    private DateTime _startedAt;
    private bool _failing;

    public CronFirer(RedisClient redis, QueueKeys keys, CronSettings settings, Log log, bool logJobs, TimeProvider clock)
    {
        _redis = redis;
        _keys = keys;
        _settings = settings;
        _log = log;
        _fireLevel = logJobs ? LogLevel.Info : LogLevel.Debug;
        _clock = clock;
        _done = new DateTime[settings.Entries.Count];
        _next = new DateTime[settings.Entries.Count];
        for (int i = 0; i < _done.Length; i++) _done[i] = _next[i] = DateTime.MinValue;
    }

    /// <summary>Test signal: every fire attempt's outcome, with the schedule name and fire time.</summary>
    internal Action<string, DateTime, CronFireStatus>? Attempted { get; set; }

    /// <summary>Fires what is due; returns how long until the next fire.</summary>
    public async Task<TimeSpan> RunAsync(CancellationToken stop)
    {
        try
        {
            if (!_synced)
            {
                await SyncAsync(stop).ConfigureAwait(false);
                _synced = true;
                _startedAt = Now();
                LogSchedules();
            }
            var entries = _settings.Entries;
            for (int i = 0; i < entries.Count; i++)
            {
                while (_next[i] <= Now())
                {
                    var fire = DueFire(entries[i].Schedule, _done[i], Now());
                    if (fire is null)
                    {
                        _next[i] = entries[i].Schedule.NextAfter(Now()) ?? DateTime.MaxValue;
                        break;
                    }
                    if (!await FireAsync(entries[i], fire.Value, stop).ConfigureAwait(false))
                    {
                        _next[i] = fire.Value;
                        break;
                    }
                    _done[i] = fire.Value;
                    _next[i] = entries[i].Schedule.NextAfter(fire.Value) ?? DateTime.MaxValue;
                }
            }
            Recovered();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return RetryDelay;
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
            if (!_failing) _log.Error("cron: cannot fire: " + e.Message + "; retrying");
            _failing = true;
            return RetryDelay;
        }
        return UntilNext();
    }

    /// <summary>
    /// The fire to try now, given the last one this replica handled: the oldest due fire after this replica started
    /// if it is at most <see cref="CronSettings.LateGrace"/> late (a slow tick is not downtime: each time fires, in
    /// order); otherwise only the latest due fire within the catch-up window (missed ones are skipped, no burst).
    /// </summary>
    private DateTime? DueFire(CronSchedule schedule, DateTime done, DateTime now)
    {
        var limit = now - _settings.LateLimit;
        var notBefore = done > limit ? done : limit;
        var oldest = schedule.NextAfter(notBefore);
        if (oldest is null || oldest.Value > now) return null;
        if (oldest.Value > _startedAt && now - oldest.Value <= CronSettings.LateGrace) return oldest;
        return schedule.LatestIn(notBefore, now);
    }

    /// <summary>Returns false when Redis says the fire is still ahead (this replica's clock estimate was fast).</summary>
    private async Task<bool> FireAsync(CronEntry entry, DateTime fire, CancellationToken stop)
    {
        long fireMs = UnixMs(fire);
        var id = entry.JobId(fireMs);
        _batch.Clear();
        CronProtocol.AppendFire(_batch, _keys, entry.Name, fireMs, id, entry.Type, entry.Queue, entry.ArgsJson, EarlyMs);
        long before = _clock.GetTimestamp();
        var result = CronProtocol.ParseFire(await _redis.ExecuteAsync(_batch, stop).ConfigureAwait(false));
        Anchor(result.RedisNowMs, before, _clock.GetTimestamp());
        Attempted?.Invoke(entry.Name, fire, result.Status);
        switch (result.Status)
        {
            case CronFireStatus.Enqueued:
                if (_log.IsEnabled(_fireLevel))
                    _log.Write(_fireLevel, $"cron: {entry.Name} fired for {Iso(fire)} as job {id} ({entry.Type} on {entry.Queue}), {result.RedisNowMs - fireMs} ms after its time");
                return true;
            case CronFireStatus.AlreadyFired:
                _log.Debug($"cron: {entry.Name} for {Iso(fire)} was enqueued already (last fire {Iso(FromUnixMs(result.LastFireMs))})");
                return true;
            default:
                _log.Debug($"cron: {entry.Name} for {Iso(fire)} is still {fireMs - result.RedisNowMs} ms ahead of Redis' clock; clock re-synced");
                return false;
        }
    }

    private async Task SyncAsync(CancellationToken stop)
    {
        long before = _clock.GetTimestamp();
        var items = (await _redis.ExecuteAsync(Time, stop).ConfigureAwait(false)).ThrowIfError().Items;
        if (items is not { Length: 2 }) throw new RedisProtocolException("TIME: unexpected reply");
        long ms = long.Parse(items[0].AsString()!, CultureInfo.InvariantCulture) * 1000
                  + long.Parse(items[1].AsString()!, CultureInfo.InvariantCulture) / 1000;
        Anchor(ms, before, _clock.GetTimestamp());
    }

    /// <summary>Redis read its clock somewhere during the round trip: take the middle.</summary>
    private void Anchor(long redisMs, long sentTimestamp, long receivedTimestamp)
    {
        _anchorRedisMs = redisMs;
        _anchorTimestamp = sentTimestamp + (receivedTimestamp - sentTimestamp) / 2;
    }

    /// <summary>Redis' clock now, as estimated from the last reading and the monotonic clock.</summary>
    private DateTime Now() =>
        FromUnixMs(_anchorRedisMs) + _clock.GetElapsedTime(_anchorTimestamp, _clock.GetTimestamp());

    private TimeSpan UntilNext()
    {
        var now = Now();
        var wait = TimeSpan.MaxValue;
        foreach (var next in _next)
        {
            if (next == DateTime.MaxValue) continue;
            var w = next - now;
            if (w < wait) wait = w;
        }
        return wait < MinDelay ? MinDelay : wait;
    }

    private void LogSchedules()
    {
        // The schedules are searched only for a line that will be written.
        if (!_log.IsEnabled(LogLevel.Info)) return;
        var now = Now();
        string? first = null;
        DateTime firstAt = DateTime.MaxValue;
        foreach (var e in _settings.Entries)
        {
            var next = e.Schedule.NextAfter(now);
            if (next is not null && next.Value < firstAt) (first, firstAt) = (e.Name, next.Value);
        }
        var zone = $"cron: {_settings.Entries.Count} schedule(s) in {_settings.ZoneName}, catch-up {Config.ValueParsers.FormatDuration(_settings.Catchup)}";
        if (first is null) _log.Info(zone);
        else _log.Info($"{zone}; next {first} at {CronTimes.Local(firstAt, _settings.Zone)} ({Iso(firstAt)})");
    }

    private void Recovered()
    {
        if (!_failing) return;
        _failing = false;
        _log.Info("cron: firing again");
    }

    private static string Iso(DateTime utc) => CronTimes.Utc(utc);
    private static long UnixMs(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
    private static DateTime FromUnixMs(long ms) => new(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
}
