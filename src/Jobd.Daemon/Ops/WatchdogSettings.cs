using System;
using System.Globalization;

namespace Jobd.Ops;

/// <summary>
/// systemd's watchdog request, read from WATCHDOG_USEC (and WATCHDOG_PID, which must be ours when set):
/// jobd must send WATCHDOG=1 at least that often; it pings at half the interval, as sd_watchdog_enabled(3) advises.
/// </summary>
public static class WatchdogSettings
{
    public static TimeSpan? PingInterval(string? usec, string? pid)
    {
        if (string.IsNullOrEmpty(usec) || !long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var us) || us <= 0)
            return null;
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            return null;
        return TimeSpan.FromTicks(us * 10 / 2);
    }

    public static TimeSpan? FromEnvironment() =>
        PingInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"));
}
