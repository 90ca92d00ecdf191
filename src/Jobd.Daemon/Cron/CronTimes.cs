using System;
using System.Globalization;

namespace Jobd.Cron;

/// <summary>Fire times as printed in logs and by `jobd cron list`: RFC 3339, UTC or with the zone's offset.</summary>
public static class CronTimes
{
    public static string Utc(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Local(DateTime utc, TimeZoneInfo zone) =>
        new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToOffset(zone.GetUtcOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)))
            .ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
