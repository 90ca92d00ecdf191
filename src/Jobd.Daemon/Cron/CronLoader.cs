using System;
using System.Collections.Generic;
using Jobd.Config;

namespace Jobd.Cron;

/// <summary>Reads JOBD_CRON_TZ, JOBD_CRON_CATCHUP and every JOBD_CRON_&lt;NAME&gt; into <see cref="CronSettings"/>; refuses bad ones.</summary>
internal static class CronLoader
{
    public static CronSettings Load(Reader reader)
    {
        var zoneName = reader.Text(ConfigSchema.CronTz) ?? CronSettings.ZoneDefault;
        var zone = FindZone(zoneName);
        // "0" (no unit) reads naturally for "off", and means the same as 0s.
        var catchup = reader.Text(ConfigSchema.CronCatchup) == "0"
            ? TimeSpan.Zero
            : reader.Duration(ConfigSchema.CronCatchup, CronSettings.CatchupDefault, TimeSpan.Zero, CronSettings.CatchupMax);
        var entries = new List<CronEntry>();
        foreach (var (suffix, value) in reader.Family(ConfigSchema.CronSchedule))
        {
            var variable = ConfigSchema.CronSchedule.FamilyPrefix + suffix;
            if (variable == ConfigSchema.CronTz.Name || variable == ConfigSchema.CronCatchup.Name) continue;
            if (!CronEntry.IsName(suffix))
                throw new ConfigException(ValueText.Quote(variable), "invalid schedule name; " + CronEntry.NameRule);
            var entry = CronEntry.Parse(suffix, value, zone, out var error);
            if (entry is null) throw new ConfigException(variable, error);
            entries.Add(entry);
        }
        return new CronSettings(entries, zoneName, zone, catchup);
    }

    private static TimeZoneInfo FindZone(string name)
    {
        if (name == "UTC") return TimeZoneInfo.Utc;
        try
        {
            // On Linux this reads the IANA database under /usr/share/zoneinfo (or $TZDIR); no ICU needed.
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw new ConfigException(ConfigSchema.CronTz.Name,
                $"{ValueText.Quote(name)} is not a time zone in the tz database (/usr/share/zoneinfo); expected an IANA name such as Europe/Berlin, or UTC");
        }
    }
}
