using System;
using System.Globalization;

namespace Jobd.Config;

/// <summary>
/// The textual forms jobd accepts in environment variables. Each Try method returns false with a problem phrase
/// (completing "VARIABLE: …") instead of throwing, so the loader can name the variable.
/// </summary>
internal static class ValueParsers
{
    public const string DurationForm = "a number with a unit: 500ms, 30s, 5m, 1h or 7d";
    public const string SizeForm = "a number with a unit: 512B, 64KB, 8MB or 1GB (1KB = 1024 bytes)";
    public const string BoolForm = "one of 1, 0, true, false, yes, no, on, off";

    public static bool TryDuration(string text, out TimeSpan value, out string problem)
    {
        value = default;
        var s = text.Trim();
        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
        long unitTicks = s[i..].Trim().ToLowerInvariant() switch
        {
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" => TimeSpan.TicksPerSecond,
            "m" => TimeSpan.TicksPerMinute,
            "h" => TimeSpan.TicksPerHour,
            "d" => TimeSpan.TicksPerDay,
            _ => 0,
        };
        if (i == 0 || unitTicks == 0
            || !double.TryParse(s.AsSpan(0, i), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
        {
            problem = ValueText.Quote(text) + " is not a duration; expected " + DurationForm;
            return false;
        }
        double ticks = n * unitTicks;
        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            problem = ValueText.Quote(text) + " is too long a duration";
            return false;
        }
        value = TimeSpan.FromTicks((long)ticks);
        problem = "";
        return true;
    }

    public static bool TrySize(string text, out long bytes, out string problem)
    {
        bytes = 0;
        var s = text.Trim();
        int i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        long unit = s[i..].Trim().ToUpperInvariant() switch
        {
            "B" => 1,
            "KB" or "KIB" or "K" => 1L << 10,
            "MB" or "MIB" or "M" => 1L << 20,
            "GB" or "GIB" or "G" => 1L << 30,
            _ => 0,
        };
        if (i == 0 || unit == 0 || !long.TryParse(s.AsSpan(0, i), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            problem = ValueText.Quote(text) + " is not a size; expected " + SizeForm;
            return false;
        }
        if (n > long.MaxValue / unit)
        {
            problem = ValueText.Quote(text) + " is too large a size";
            return false;
        }
        bytes = n * unit;
        problem = "";
        return true;
    }

    public static bool TryInt(string text, out long value, out string problem)
    {
        problem = "";
        if (long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        problem = ValueText.Quote(text) + " is not a whole number";
        return false;
    }

    public static bool TryBool(string text, out bool value, out string problem)
    {
        problem = "";
        switch (text.Trim().ToLowerInvariant())
        {
            case "1": case "true": case "yes": case "on": value = true; return true;
            case "0": case "false": case "no": case "off": value = false; return true;
            default:
                value = false;
                problem = ValueText.Quote(text) + " is not a boolean; expected " + BoolForm;
                return false;
        }
    }

    /// <summary>Renders a duration the way it is written in configuration (shortest exact unit).</summary>
    public static string FormatDuration(TimeSpan d)
    {
        long t = d.Ticks;
        if (t != 0 && t % TimeSpan.TicksPerDay == 0) return (t / TimeSpan.TicksPerDay).ToString(CultureInfo.InvariantCulture) + "d";
        if (t != 0 && t % TimeSpan.TicksPerHour == 0) return (t / TimeSpan.TicksPerHour).ToString(CultureInfo.InvariantCulture) + "h";
        if (t != 0 && t % TimeSpan.TicksPerMinute == 0) return (t / TimeSpan.TicksPerMinute).ToString(CultureInfo.InvariantCulture) + "m";
        if (t % TimeSpan.TicksPerSecond == 0) return (t / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "s";
        return d.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    public static string FormatSize(long bytes)
    {
        if (bytes != 0 && bytes % (1L << 30) == 0) return (bytes >> 30).ToString(CultureInfo.InvariantCulture) + "GB";
        if (bytes != 0 && bytes % (1L << 20) == 0) return (bytes >> 20).ToString(CultureInfo.InvariantCulture) + "MB";
        if (bytes != 0 && bytes % (1L << 10) == 0) return (bytes >> 10).ToString(CultureInfo.InvariantCulture) + "KB";
        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}
