using System;
using System.Collections.Generic;

namespace Jobd.Cron;

/// <summary>The cron schedules of JOBD_CRON_&lt;NAME&gt;, their zone (JOBD_CRON_TZ) and catch-up window (JOBD_CRON_CATCHUP).</summary>
public sealed class CronSettings
{
    public const string ZoneDefault = "UTC";
    public static readonly TimeSpan CatchupDefault = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan CatchupMax = TimeSpan.FromDays(1);

    /// <summary>
    /// However small the catch-up window, a fire this late is still enqueued: it covers a slow tick, a garbage
    /// collection or a short Redis failover, which are not downtime.
    /// </summary>
    public static readonly TimeSpan LateGrace = TimeSpan.FromSeconds(10);

    public CronSettings(IReadOnlyList<CronEntry> entries, string zoneName, TimeZoneInfo zone, TimeSpan catchup)
    {
        Entries = entries;
        ZoneName = zoneName;
        Zone = zone;
        Catchup = catchup;
    }

    public IReadOnlyList<CronEntry> Entries { get; }

    /// <summary>The name as configured ("UTC", "Europe/Berlin").</summary>
    public string ZoneName { get; }

    public TimeZoneInfo Zone { get; }
    public TimeSpan Catchup { get; }

    /// <summary>How late a fire may be enqueued: the catch-up window, at least <see cref="LateGrace"/>.</summary>
    public TimeSpan LateLimit => Catchup > LateGrace ? Catchup : LateGrace;
}
