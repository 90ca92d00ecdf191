using System;
using System.Globalization;

namespace Jobd.Cron;

/// <summary>
/// One field of a cron expression parsed into a bit set: lists (1,5), ranges (1-5), steps (*/15, 1-30/2, 5/10 =
/// 5-max/10), names (JAN-DEC, SUN-SAT, any case). Day of week 7 is Sunday, like 0. Only the Vixie/cronie syntax:
/// L, W, #, ? and H are refused, so an expression never means something other than what cron would do.
/// </summary>
internal readonly struct CronField
{
    public static readonly CronField Second = new("second", 0, 59, null);
    public static readonly CronField Minute = new("minute", 0, 59, null);
    public static readonly CronField Hour = new("hour", 0, 23, null);
    public static readonly CronField DayOfMonth = new("day of month", 1, 31, null);
    public static readonly CronField Month = new("month", 1, 12,
        new[] { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" });
    // 0-7: 7 is accepted for Sunday and folded onto 0 after parsing.
    public static readonly CronField DayOfWeek = new("day of week", 0, 7, new[] { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" });

    private readonly string _name;
    private readonly int _min;
    private readonly int _max;
    private readonly string[]? _names;

    private CronField(string name, int min, int max, string[]? names)
    {
        _name = name;
        _min = min;
        _max = max;
        _names = names;
    }

    public string Name => _name;

    /// <summary>Bit n set: value n matches. <paramref name="star"/>: the field starts with '*' (Vixie's rule for the day OR).</summary>
    public bool TryParse(string text, out ulong bits, out bool star, out string error)
    {
        bits = 0;
        star = text.StartsWith('*');
        error = "";
        foreach (var item in text.Split(','))
        {
            if (!TryItem(item, ref bits, out error)) return false;
        }
        if (_max == 7 && (bits & (1UL << 7)) != 0) bits = (bits & ~(1UL << 7)) | 1;
        return true;
    }

    private bool TryItem(string item, ref ulong bits, out string error)
    {
        error = "";
        int step = 1;
        string range = item;
        int slash = item.IndexOf('/');
        if (slash >= 0)
        {
            range = item[..slash];
            if (!int.TryParse(item.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1 || step > _max - _min + 1)
            {
                error = $"{_name} step {Q(item[(slash + 1)..])} must be a number from 1 to {_max - _min + 1}";
                return false;
            }
        }
        int from, to;
        if (range == "*")
        {
            from = _min;
            to = _max == 7 ? 6 : _max;
        }
        else
        {
            int dash = range.IndexOf('-');
            if (!TryValue(dash < 0 ? range : range[..dash], out from, out error)) return false;
            if (dash >= 0)
            {
                if (!TryValue(range[(dash + 1)..], out to, out error)) return false;
                if (to < from)
                {
                    error = $"{_name} range {Q(range)} runs backwards";
                    return false;
                }
            }
            else
            {
                // "5/15" is "5-max/15" (cronie, most crons); a lone "5" is just 5.
                to = slash >= 0 ? _max : from;
            }
        }
        for (int v = from; v <= to; v += step) bits |= 1UL << v;
        return true;
    }

    private static string Q(string s) => Jobd.Config.ValueText.Quote(s);

    private bool TryValue(string s, out int value, out string error)
    {
        error = "";
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            if (value >= _min && value <= _max) return true;
            error = $"{_name} {Q(s)} is out of range {_min}-{_max}";
            return false;
        }
        if (_names is not null)
        {
            for (int i = 0; i < _names.Length; i++)
            {
                if (!string.Equals(_names[i], s, StringComparison.OrdinalIgnoreCase)) continue;
                value = _min + i;
                return true;
            }
        }
        error = s.Length == 0
            ? $"{_name} has an empty item"
            : $"{_name} {Q(s)} is not a number{(_names is null ? "" : " or a name (" + _names[0] + "…" + _names[^1] + ")")} in {_min}-{_max}";
        return false;
    }
}
