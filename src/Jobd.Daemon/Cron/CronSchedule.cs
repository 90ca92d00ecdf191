using System;

namespace Jobd.Cron;

/// <summary>
/// A cron expression in a time zone: the instants (UTC, whole seconds) at which it fires. Across a DST change it
/// behaves like Vixie cron and cronie:
/// - clocks go forward (a gap): a fixed-time job (<see cref="CronExpression.IsFixedTime"/>) whose time falls in
///   the gap fires once, at the instant of the change; any other job fires at the times that exist;
/// - clocks go back (an overlap): a fixed-time job fires at the first occurrence only; any other job fires at
///   every occurrence (an hourly job still fires every hour).
/// Offsets are read from the zone (TimeZoneInfo, the system's IANA tz database); a change of offset is found by
/// probing every <see cref="ProbeStep"/> then bisecting to the second, so two changes less than that apart
/// (none in the tz database since 1970) would be seen as one.
/// </summary>
public sealed class CronSchedule
{
    private static readonly TimeSpan ProbeStep = TimeSpan.FromHours(6);

    /// <summary>A repeated hour is recognised for DST changes up to this size (Vixie's "less than 3 hours").</summary>
    private static readonly TimeSpan OverlapLookback = TimeSpan.FromHours(3);

    private readonly bool _fixedOffset;

    public CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        Expression = expression;
        Zone = zone;
        _fixedOffset = zone.GetAdjustmentRules().Length == 0;
    }

    public CronExpression Expression { get; }
    public TimeZoneInfo Zone { get; }

    /// <summary>The first fire strictly after <paramref name="after"/>, or null if it never fires again.</summary>
    public DateTime? NextAfter(DateTime after)
    {
        after = Utc(after);
        if (_fixedOffset)
        {
            var offset = Zone.BaseUtcOffset;
            var local = Expression.NextAfter(after + offset);
            return local is null ? null : Utc(local.Value - offset);
        }
        var segmentStart = after;            // an instant whose offset is `off`
        var off = Zone.GetUtcOffset(after);
        var localFrom = after + off;          // search wall-clock times strictly after this
        for (int guard = 0; guard < 10_000; guard++)
        {
            var candidate = Expression.NextAfter(localFrom);
            if (candidate is null) return null;
            var instant = Utc(candidate.Value - off);
            var change = NextChange(segmentStart, instant, off);
            if (change is null)
            {
                if (Expression.IsFixedTime && IsRepeat(candidate.Value, instant, off))
                {
                    localFrom = candidate.Value;
                    continue;
                }
                return instant;
            }
            var newOff = Zone.GetUtcOffset(change.Value);
            // Clocks went forward past the candidate: the wall-clock time never happened.
            if (newOff > off && candidate.Value < change.Value + newOff && Expression.IsFixedTime) return change.Value;
            segmentStart = change.Value;
            off = newOff;
            localFrom = change.Value + newOff - TimeSpan.FromTicks(1);
        }
        return null;
    }

    /// <summary>
    /// The latest fire in (<paramref name="notBefore"/>, <paramref name="now"/>], or null. Looks back in doubling
    /// windows so that a dense schedule costs a few steps and a sparse one a few dozen.
    /// </summary>
    public DateTime? LatestIn(DateTime notBefore, DateTime now)
    {
        notBefore = Utc(notBefore);
        now = Utc(now);
        if (notBefore >= now) return null;
        for (var window = TimeSpan.FromSeconds(1); ; window += window)
        {
            var start = now - notBefore > window ? now - window : notBefore;
            var fire = NextAfter(start);
            if (fire is not null && fire.Value <= now)
            {
                for (var next = NextAfter(fire.Value); next is not null && next.Value <= now; next = NextAfter(next.Value))
                    fire = next;
                return fire;
            }
            if (start == notBefore) return null;
        }
    }

    /// <summary>A wall-clock time seen a second time because clocks went back, and <paramref name="off"/> is the later offset.</summary>
    private bool IsRepeat(DateTime local, DateTime instant, TimeSpan off)
    {
        var earlier = Zone.GetUtcOffset(instant - OverlapLookback);
        return earlier > off && Zone.GetUtcOffset(Utc(local - earlier)) == earlier;
    }

    /// <summary>The first instant in (from, to] whose offset is not <paramref name="off"/>, to the second.</summary>
    private DateTime? NextChange(DateTime from, DateTime to, TimeSpan off)
    {
        long lo = Seconds(from);
        long end = Seconds(to);
        if (end <= lo) return null;
        long step = (long)ProbeStep.TotalSeconds;
        while (true)
        {
            long hi = Math.Min(lo + step, end);
            if (Zone.GetUtcOffset(FromSeconds(hi)) != off)
            {
                // Offsets change on whole seconds: lo has `off`, hi has not; bisect between them.
                while (hi - lo > 1)
                {
                    long mid = lo + (hi - lo) / 2;
                    if (Zone.GetUtcOffset(FromSeconds(mid)) == off) lo = mid;
                    else hi = mid;
                }
                return FromSeconds(hi);
            }
            if (hi == end) return null;
            lo = hi;
        }
    }

    private static long Seconds(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
    private static DateTime FromSeconds(long s) => new(DateTime.UnixEpoch.Ticks + s * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    private static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);
}
