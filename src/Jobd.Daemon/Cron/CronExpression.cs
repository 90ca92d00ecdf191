using System;
using System.Numerics;

namespace Jobd.Cron;

/// <summary>
/// A parsed cron expression in wall-clock (local) time, without a time zone: five fields (minute hour
/// day-of-month month day-of-week), six with a leading seconds field, or an alias (@yearly, @annually, @monthly,
/// @weekly, @daily, @midnight, @hourly). Day of month and day of week follow Vixie cron: when both are
/// restricted (neither starts with '*') a day matches either; otherwise it must match both.
/// It finds the next matching wall-clock time; <see cref="CronSchedule"/> maps those to instants in a zone.
/// </summary>
public sealed class CronExpression
{
    /// <summary>How far ahead a match is looked for: a 28-year cycle covers every day-of-week/date combination.</summary>
    public const int SearchYears = 28;

    private readonly ulong _seconds;
    private readonly ulong _minutes;
    private readonly ulong _hours;
    private readonly ulong _days;
    private readonly ulong _months;
    private readonly ulong _weekdays;
    private readonly bool _dayOr;

    private CronExpression(string text, ulong seconds, ulong minutes, ulong hours, ulong days, ulong months, ulong weekdays,
        bool dayOr, bool fixedTime)
    {
        Text = text;
        _seconds = seconds;
        _minutes = minutes;
        _hours = hours;
        _days = days;
        _months = months;
        _weekdays = weekdays;
        _dayOr = dayOr;
        IsFixedTime = fixedTime;
    }

    /// <summary>The expression as written.</summary>
    public string Text { get; }

    /// <summary>
    /// Neither the minute nor the hour field starts with '*' (cronie's rule): such a job runs at a particular time
    /// of day, so across a DST change it runs once (a skipped time at the end of the gap, a repeated time only the
    /// first time). Other jobs follow the clock as it is: skipped times do not run, repeated times run again.
    /// </summary>
    public bool IsFixedTime { get; }

    public static bool TryParse(string text, out CronExpression? expression, out string error)
    {
        expression = null;
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length == 1 && fields[0].StartsWith('@'))
        {
            var expanded = Alias(fields[0]);
            if (expanded is null)
            {
                error = $"unknown alias {Jobd.Config.ValueText.Quote(fields[0])}; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly (@every and @reboot are not supported)";
                return false;
            }
            if (!TryParse(expanded, out expression, out error)) return false;
            expression = new CronExpression(text, expression!._seconds, expression._minutes, expression._hours, expression._days,
                expression._months, expression._weekdays, expression._dayOr, expression.IsFixedTime);
            return true;
        }
        if (fields.Length is not (5 or 6))
        {
            error = $"has {fields.Length} fields; expected 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or an @alias";
            return false;
        }
        int o = fields.Length - 5;
        ulong seconds = 1;
        bool star = false, minuteStar, hourStar, domStar, dowStar;
        if (o == 1 && !CronField.Second.TryParse(fields[0], out seconds, out star, out error)) return false;
        if (!CronField.Minute.TryParse(fields[o], out var minutes, out minuteStar, out error)) return false;
        if (!CronField.Hour.TryParse(fields[o + 1], out var hours, out hourStar, out error)) return false;
        if (!CronField.DayOfMonth.TryParse(fields[o + 2], out var days, out domStar, out error)) return false;
        if (!CronField.Month.TryParse(fields[o + 3], out var months, out star, out error)) return false;
        if (!CronField.DayOfWeek.TryParse(fields[o + 4], out var weekdays, out dowStar, out error)) return false;
        expression = new CronExpression(text, seconds, minutes, hours, days, months, weekdays,
            dayOr: !domStar && !dowStar, fixedTime: !minuteStar && !hourStar);
        error = "";
        return true;
    }

    private static string? Alias(string alias) => alias.ToLowerInvariant() switch
    {
        "@yearly" or "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" or "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => null,
    };

    public bool Matches(DateTime local) =>
        Bit(_months, local.Month) && DayMatches(local) && Bit(_hours, local.Hour) && Bit(_minutes, local.Minute) && Bit(_seconds, local.Second);

    /// <summary>
    /// The first matching wall-clock time strictly after <paramref name="after"/> (whole seconds), or null when
    /// none comes within <see cref="SearchYears"/> years (e.g. 30 February).
    /// </summary>
    public DateTime? NextAfter(DateTime after)
    {
        long ticks = after.Ticks - after.Ticks % TimeSpan.TicksPerSecond + TimeSpan.TicksPerSecond;
        if (ticks >= DateTime.MaxValue.Ticks) return null;
        var t = new DateTime(ticks, DateTimeKind.Unspecified);
        int lastYear = Math.Min(after.Year + SearchYears, DateTime.MaxValue.Year - 1);
        while (t.Year <= lastYear)
        {
            if (!Bit(_months, t.Month))
            {
                t = new DateTime(t.Year, t.Month, 1).AddMonths(1);
                continue;
            }
            if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
                continue;
            }
            int h = NextBit(_hours, t.Hour);
            if (h < 0)
            {
                t = t.Date.AddDays(1);
                continue;
            }
            if (h != t.Hour)
            {
                t = t.Date.AddHours(h);
                continue;
            }
            int m = NextBit(_minutes, t.Minute);
            if (m < 0)
            {
                t = t.Date.AddHours(t.Hour + 1);
                continue;
            }
            if (m != t.Minute)
            {
                t = t.Date.AddHours(t.Hour).AddMinutes(m);
                continue;
            }
            int s = NextBit(_seconds, t.Second);
            if (s < 0)
            {
                t = t.Date.AddHours(t.Hour).AddMinutes(t.Minute + 1);
                continue;
            }
            return t.AddSeconds(s - t.Second);
        }
        return null;
    }

    private bool DayMatches(DateTime t)
    {
        bool dom = Bit(_days, t.Day), dow = Bit(_weekdays, (int)t.DayOfWeek);
        return _dayOr ? dom || dow : dom && dow;
    }

    private static bool Bit(ulong bits, int n) => (bits & (1UL << n)) != 0;

    /// <summary>The smallest set bit at or above <paramref name="from"/>, or -1.</summary>
    private static int NextBit(ulong bits, int from)
    {
        ulong rest = bits >> from;
        return rest == 0 ? -1 : from + BitOperations.TrailingZeroCount(rest);
    }

    public override string ToString() => Text;
}
