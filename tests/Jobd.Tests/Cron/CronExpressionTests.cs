using System;
using Jobd.Cron;
using Xunit;

namespace Jobd.Tests.Cron;

public sealed class CronExpressionTests
{
    private static CronExpression Parse(string text)
    {
        Assert.True(CronExpression.TryParse(text, out var e, out var error), error);
        return e!;
    }

    private static DateTime L(string s) => DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    private static string Next(string expr, string after) =>
        Parse(expr).NextAfter(L(after))?.ToString("yyyy-MM-dd HH:mm:ss ddd", System.Globalization.CultureInfo.InvariantCulture) ?? "never";

    [Theory]
    [InlineData("* * * * *", "2026-01-01 00:00:00", "2026-01-01 00:01:00 Thu")]
    [InlineData("* * * * *", "2026-01-01 00:00:59", "2026-01-01 00:01:00 Thu")]
    [InlineData("*/15 * * * *", "2026-01-01 00:14:59", "2026-01-01 00:15:00 Thu")]
    [InlineData("*/15 * * * *", "2026-01-01 00:15:00", "2026-01-01 00:30:00 Thu")]
    [InlineData("5/20 * * * *", "2026-01-01 00:26:00", "2026-01-01 00:45:00 Thu")]
    [InlineData("1-10/3 * * * *", "2026-01-01 00:05:00", "2026-01-01 00:07:00 Thu")]
    [InlineData("0,30 9-17 * * MON-FRI", "2026-01-02 17:30:00", "2026-01-05 09:00:00 Mon")]
    [InlineData("0 0 31 * *", "2026-01-31 00:00:00", "2026-03-31 00:00:00 Tue")]
    [InlineData("0 0 29 2 *", "2026-01-01 00:00:00", "2028-02-29 00:00:00 Tue")]
    [InlineData("0 0 29 feb *", "2028-02-29 00:00:00", "2032-02-29 00:00:00 Sun")]
    [InlineData("0 0 29 2 *", "2096-03-01 00:00:00", "2104-02-29 00:00:00 Fri")]
    [InlineData("0 12 * DEC *", "2026-12-31 12:00:00", "2027-12-01 12:00:00 Wed")]
    [InlineData("0 0 * * 0", "2026-01-01 00:00:00", "2026-01-04 00:00:00 Sun")]
    [InlineData("0 0 * * 7", "2026-01-01 00:00:00", "2026-01-04 00:00:00 Sun")]
    [InlineData("0 0 * * sun", "2026-01-01 00:00:00", "2026-01-04 00:00:00 Sun")]
    [InlineData("0 0 * * 5-7", "2026-01-03 00:00:00", "2026-01-04 00:00:00 Sun")]
    [InlineData("@hourly", "2026-01-01 10:00:00", "2026-01-01 11:00:00 Thu")]
    [InlineData("@daily", "2026-01-01 10:00:00", "2026-01-02 00:00:00 Fri")]
    [InlineData("@midnight", "2026-01-01 10:00:00", "2026-01-02 00:00:00 Fri")]
    [InlineData("@weekly", "2026-01-01 10:00:00", "2026-01-04 00:00:00 Sun")]
    [InlineData("@monthly", "2026-01-31 10:00:00", "2026-02-01 00:00:00 Sun")]
    [InlineData("@yearly", "2026-01-01 00:00:00", "2027-01-01 00:00:00 Fri")]
    [InlineData("@annually", "2026-06-01 00:00:00", "2027-01-01 00:00:00 Fri")]
    [InlineData("* * * * * *", "2026-01-01 00:00:00.5", "2026-01-01 00:00:01 Thu")]
    [InlineData("*/10 * * * * *", "2026-01-01 00:00:55", "2026-01-01 00:01:00 Thu")]
    [InlineData("30 0 0 1 1 *", "2026-06-01 00:00:00", "2027-01-01 00:00:30 Fri")]
    [InlineData("59 59 23 31 12 *", "2026-12-31 23:59:58", "2026-12-31 23:59:59 Thu")]
    [InlineData("0 0 30 2 *", "2026-01-01 00:00:00", "never")]
    [InlineData("0 0 31 4,6,9,11 *", "2026-01-01 00:00:00", "never")]
    public void Next_fire(string expr, string after, string want) => Assert.Equal(want, Next(expr, after));

    [Theory]
    // Both day fields restricted: either matches (Vixie). The 13th, or any Friday.
    [InlineData("0 0 13 * 5", "2026-01-01 00:00:00", "2026-01-02 00:00:00 Fri")]
    [InlineData("0 0 13 * 5", "2026-01-10 00:00:00", "2026-01-13 00:00:00 Tue")]
    // One of them starting with '*': both must match. Friday the 13th is then a Friday AND in */1 days.
    [InlineData("0 0 */1 * 5", "2026-01-01 00:00:00", "2026-01-02 00:00:00 Fri")]
    [InlineData("0 0 13 * *", "2026-01-14 00:00:00", "2026-02-13 00:00:00 Fri")]
    [InlineData("0 0 1-7 * */7", "2026-01-01 00:00:00", "2026-01-04 00:00:00 Sun")]
    public void Day_of_month_and_day_of_week_follow_the_vixie_rule(string expr, string after, string want) =>
        Assert.Equal(want, Next(expr, after));

    [Theory]
    [InlineData("0 3 * * *", true)]
    [InlineData("30 2 * * *", true)]
    [InlineData("@daily", true)]
    [InlineData("@hourly", false)]
    [InlineData("*/5 * * * *", false)]
    [InlineData("0 * * * *", false)]
    [InlineData("0 */2 * * *", false)]
    [InlineData("* 3 * * *", false)]
    [InlineData("15 0-23 * * *", true)]
    public void Fixed_time_means_neither_minute_nor_hour_starts_with_a_star(string expr, bool isFixed) =>
        Assert.Equal(isFixed, Parse(expr).IsFixedTime);

    [Theory]
    [InlineData("", "has 0 fields")]
    [InlineData("* * * *", "has 4 fields")]
    [InlineData("* * * * * * *", "has 7 fields")]
    [InlineData("60 * * * *", "minute \"60\" is out of range 0-59")]
    [InlineData("* 24 * * *", "hour \"24\" is out of range 0-23")]
    [InlineData("* * 0 * *", "day of month \"0\" is out of range 1-31")]
    [InlineData("* * * 13 *", "month \"13\" is out of range 1-12")]
    [InlineData("* * * * 8", "day of week \"8\" is out of range 0-7")]
    [InlineData("* * * FOO *", "month \"FOO\" is not a number or a name (JAN…DEC)")]
    [InlineData("* * L * *", "day of month \"L\" is not a number")]
    [InlineData("* * ? * *", "day of month \"?\" is not a number")]
    [InlineData("* * * * MON#2", "day of week \"MON#2\" is not a number")]
    [InlineData("5-1 * * * *", "minute range \"5-1\" runs backwards")]
    [InlineData("*/0 * * * *", "minute step \"0\" must be a number from 1 to 60")]
    [InlineData("*/x * * * *", "minute step \"x\"")]
    [InlineData("1,,2 * * * *", "minute has an empty item")]
    [InlineData("@every 5m", "has 2 fields")]
    [InlineData("@every", "unknown alias \"@every\"")]
    [InlineData("@reboot", "unknown alias \"@reboot\"")]
    [InlineData("60 * * * * *", "second \"60\" is out of range 0-59")]
    public void Malformed_expressions_are_refused_with_the_field_named(string expr, string wantError)
    {
        Assert.False(CronExpression.TryParse(expr, out _, out var error));
        Assert.Contains(wantError, error);
    }

    [Fact]
    public void Matches_agrees_with_next_for_a_year_of_minutes()
    {
        var e = Parse("*/7 1-5,22 */3 JAN,MAR-MAY,DEC TUE-THU");
        var t = L("2026-01-01 00:00:00");
        var expected = e.NextAfter(t);
        for (var m = t.AddMinutes(1); m < t.AddYears(1); m = m.AddMinutes(1))
        {
            if (!e.Matches(m)) continue;
            Assert.Equal(expected, m);
            expected = e.NextAfter(m);
        }
    }
}
