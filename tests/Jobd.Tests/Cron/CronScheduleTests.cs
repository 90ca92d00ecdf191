using System;
using System.Collections.Generic;
using System.Globalization;
using Jobd.Cron;
using Xunit;

namespace Jobd.Tests.Cron;

/// <summary>Next fire in a zone, DST included (Vixie/cronie rules), against the system's tz database.</summary>
public sealed class CronScheduleTests
{
    private static CronSchedule Schedule(string expr, string zone)
    {
        Assert.True(CronExpression.TryParse(expr, out var e, out var error), error);
        return new CronSchedule(e!, zone == "UTC" ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(zone));
    }

    private static DateTime U(string s) =>
        DateTime.SpecifyKind(DateTime.Parse(s, CultureInfo.InvariantCulture), DateTimeKind.Utc);

    private static string F(DateTime? t) => t?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "never";

    [Theory]
    // Europe/Berlin, 2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST.
    [InlineData("30 2 * * *", "2026-03-28 12:00:00", "2026-03-29 01:00:00")]   // fixed time in the gap: at the change
    [InlineData("30 2 * * *", "2026-03-29 01:00:00", "2026-03-30 00:30:00")]   // and once only
    [InlineData("0,30 2 * * *", "2026-03-29 01:00:00", "2026-03-30 00:00:00")]
    [InlineData("0 3 * * *", "2026-03-28 12:00:00", "2026-03-29 01:00:00")]    // 03:00 CEST exists
    [InlineData("30 * * * *", "2026-03-29 00:00:00", "2026-03-29 00:30:00")]   // 01:30 CET
    [InlineData("30 * * * *", "2026-03-29 00:30:00", "2026-03-29 01:30:00")]   // 02:30 never happened: 03:30 CEST
    [InlineData("0 * * * *", "2026-03-29 00:30:00", "2026-03-29 01:00:00")]    // hourly stays hourly
    // Europe/Berlin, 2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET.
    [InlineData("30 2 * * *", "2026-10-24 12:00:00", "2026-10-25 00:30:00")]   // first 02:30 (CEST)
    [InlineData("30 2 * * *", "2026-10-25 00:30:00", "2026-10-26 01:30:00")]   // not the second one
    [InlineData("0 2 * * *", "2026-10-25 00:00:00", "2026-10-26 01:00:00")]
    [InlineData("30 * * * *", "2026-10-25 00:00:00", "2026-10-25 00:30:00")]   // 02:30 CEST
    [InlineData("30 * * * *", "2026-10-25 00:30:00", "2026-10-25 01:30:00")]   // 02:30 CET, again
    [InlineData("30 * * * *", "2026-10-25 01:30:00", "2026-10-25 02:30:00")]
    [InlineData("*/20 2 * * *", "2026-10-25 00:40:00", "2026-10-25 01:00:00")] // minute wildcard: both 02:xx hours
    [InlineData("*/20 2 * * *", "2026-10-25 01:40:00", "2026-10-26 01:00:00")]
    public void Berlin_dst(string expr, string afterUtc, string wantUtc) =>
        Assert.Equal(wantUtc, F(Schedule(expr, "Europe/Berlin").NextAfter(U(afterUtc))));

    [Theory]
    // America/New_York, 2026-03-08 07:00 UTC: 02:00 EST becomes 03:00 EDT.
    [InlineData("30 2 * * *", "2026-03-07 12:00:00", "2026-03-08 07:00:00")]
    [InlineData("30 2 * * *", "2026-03-08 07:00:00", "2026-03-09 06:30:00")]
    [InlineData("15 2 * * SUN", "2026-03-07 12:00:00", "2026-03-08 07:00:00")]
    [InlineData("15 2 * * SUN", "2026-03-08 07:00:00", "2026-03-15 06:15:00")]
    [InlineData("*/30 * * * *", "2026-03-08 06:30:00", "2026-03-08 07:00:00")] // 03:00 EDT
    // 2026-11-01 06:00 UTC: 02:00 EDT becomes 01:00 EST.
    [InlineData("30 1 * * *", "2026-10-31 12:00:00", "2026-11-01 05:30:00")]
    [InlineData("30 1 * * *", "2026-11-01 05:45:00", "2026-11-02 06:30:00")]
    [InlineData("*/30 * * * *", "2026-11-01 05:30:00", "2026-11-01 06:00:00")] // 01:00 EST, the second time
    [InlineData("0 0 * * *", "2026-10-31 12:00:00", "2026-11-01 04:00:00")]
    [InlineData("0 0 * * *", "2026-11-01 04:00:00", "2026-11-02 05:00:00")]
    public void New_york_dst(string expr, string afterUtc, string wantUtc) =>
        Assert.Equal(wantUtc, F(Schedule(expr, "America/New_York").NextAfter(U(afterUtc))));

    [Theory]
    [InlineData("0 0 1 * *", "UTC", "2026-01-31 23:59:59", "2026-02-01 00:00:00")]
    [InlineData("0 0 L * *", "UTC", "", "")]
    [InlineData("0 0 29 2 *", "Europe/Berlin", "2026-01-01 00:00:00", "2028-02-28 23:00:00")]
    [InlineData("0 0 1 1 *", "Asia/Kolkata", "2026-06-01 00:00:00", "2026-12-31 18:30:00")]
    [InlineData("0 9 * * MON", "Australia/Lord_Howe", "2026-01-01 00:00:00", "2026-01-04 22:00:00")]
    public void Month_ends_leap_years_and_odd_offsets(string expr, string zone, string afterUtc, string wantUtc)
    {
        if (afterUtc == "")
        {
            Assert.False(CronExpression.TryParse(expr, out _, out _));
            return;
        }
        Assert.Equal(wantUtc, F(Schedule(expr, zone).NextAfter(U(afterUtc))));
    }

    [Theory]
    [InlineData("*/15 * * * *", "Europe/Berlin")]
    [InlineData("7 * * * *", "America/New_York")]
    [InlineData("*/10 1-3 * * *", "Europe/Berlin")]
    [InlineData("0 * * * *", "Australia/Lord_Howe")]
    public void A_wildcard_job_fires_at_every_instant_whose_wall_clock_matches(string expr, string zone)
    {
        var s = Schedule(expr, zone);
        var want = new List<DateTime>();
        var start = U("2026-01-01 00:00:00");
        for (var u = start.AddMinutes(1); u < start.AddYears(1); u = u.AddMinutes(1))
            if (s.Expression.Matches(DateTime.SpecifyKind(u + s.Zone.GetUtcOffset(u), DateTimeKind.Unspecified))) want.Add(u);
        var got = new List<DateTime>();
        for (var t = s.NextAfter(start); t is not null && t.Value < start.AddYears(1); t = s.NextAfter(t.Value)) got.Add(t.Value);
        Assert.Equal(want, got);
    }

    [Fact]
    public void A_daily_job_fires_once_a_day_through_both_berlin_changes()
    {
        foreach (var expr in new[] { "30 2 * * *", "0 2 * * *", "0 3 * * *", "59 1 * * *" })
        {
            var s = Schedule(expr, "Europe/Berlin");
            var days = new HashSet<DateOnly>();
            int fires = 0;
            var start = U("2026-01-01 00:00:00");
            for (var t = s.NextAfter(start); t is not null && t.Value < start.AddYears(1); t = s.NextAfter(t.Value))
            {
                fires++;
                Assert.True(days.Add(DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(t.Value, s.Zone))), expr + " fired twice on one day at " + F(t));
            }
            Assert.Equal(365, fires);
        }
    }

    [Fact]
    public void Latest_fire_in_a_window()
    {
        var perSecond = Schedule("* * * * * *", "UTC");
        Assert.Equal("2026-05-01 10:00:07", F(perSecond.LatestIn(U("2026-05-01 09:59:00"), U("2026-05-01 10:00:07.900"))));
        Assert.Null(perSecond.LatestIn(U("2026-05-01 10:00:07"), U("2026-05-01 10:00:07.900")));

        var daily = Schedule("0 9 * * *", "Europe/Berlin");
        var now = U("2026-11-23 08:00:30");
        Assert.Equal("2026-11-23 08:00:00", F(daily.LatestIn(now.AddMinutes(-1), now)));
        Assert.Null(daily.LatestIn(now.AddSeconds(-10), now));
        Assert.Equal("2026-11-23 08:00:00", F(daily.LatestIn(now.AddDays(-3), now)));

        var yearly = Schedule("@yearly", "UTC");
        Assert.Equal("2026-01-01 00:00:00", F(yearly.LatestIn(U("2025-06-01 00:00:00"), U("2026-11-23 00:00:00"))));
        Assert.Null(yearly.LatestIn(U("2026-01-01 00:00:00"), U("2026-11-23 00:00:00")));
    }
}
