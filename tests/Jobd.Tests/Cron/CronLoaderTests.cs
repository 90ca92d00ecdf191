using System;
using System.Collections.Generic;
using Jobd.Config;
using Jobd.Cron;
using Xunit;

namespace Jobd.Tests.Cron;

/// <summary>JOBD_CRON_* through the real loader: what is accepted, and the one line for what is not.</summary>
public sealed class CronLoaderTests
{
    private static CronSettings Load(params (string, string)[] pairs)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs) env[k] = v;
        return ConfigLoader.Load(env).Cron;
    }

    private static string Refused(params (string, string)[] pairs) =>
        Assert.Throws<ConfigException>(() => Load(pairs)).Message;

    [Fact]
    public void No_schedule_by_default_in_utc_with_a_one_minute_catchup()
    {
        var c = Load();
        Assert.Empty(c.Entries);
        Assert.Equal("UTC", c.ZoneName);
        Assert.Same(TimeZoneInfo.Utc, c.Zone);
        Assert.Equal(TimeSpan.FromMinutes(1), c.Catchup);
        Assert.Equal(TimeSpan.FromMinutes(1), c.LateLimit);
    }

    [Fact]
    public void Schedules_are_read_with_their_args_and_queue_and_tz_and_catchup_are_not_schedules()
    {
        var c = Load(("JOBD_CRON_TZ", "Europe/Berlin"), ("JOBD_CRON_CATCHUP", "0"),
            ("JOBD_CRON_digest", "0 9 * * MON-FRI send_digest {\"to\": \"ops\", \"n\": [1, 2]} queue=low"),
            ("JOBD_CRON_TICK", "*/5 * * * * * noop"),
            ("JOBD_CRON_NIGHTLY", "@daily report.build queue=reports"),
            ("JOBD_CRON_EMPTY", "  "));
        Assert.Equal("Europe/Berlin", c.ZoneName);
        Assert.Equal(TimeSpan.Zero, c.Catchup);
        Assert.Equal(CronSettings.LateGrace, c.LateLimit);
        Assert.Equal(3, c.Entries.Count);
        var names = new List<string>();
        foreach (var e in c.Entries) names.Add(e.Name);
        Assert.Equal(new[] { "NIGHTLY", "TICK", "digest" }, names);

        var nightly = c.Entries[0];
        Assert.Equal("@daily", nightly.Expression.Text);
        Assert.Equal("report.build", nightly.Type);
        Assert.Equal("{}", nightly.ArgsJson);
        Assert.Equal("reports", nightly.Queue);

        var tick = c.Entries[1];
        Assert.Equal("*/5 * * * * *", tick.Expression.Text);
        Assert.Equal("default", tick.Queue);

        var digest = c.Entries[2];
        Assert.Equal("0 9 * * MON-FRI", digest.Expression.Text);
        Assert.Equal("send_digest", digest.Type);
        Assert.Equal("{\"to\": \"ops\", \"n\": [1, 2]}", digest.ArgsJson);
        Assert.Equal("low", digest.Queue);
        Assert.Equal("cron:digest:1767225600000", digest.JobId(1767225600000));
    }

    /// <summary>"queue=" inside the args is data: only a word after the whole JSON object names the queue.</summary>
    [Fact]
    public void Queue_words_inside_the_args_are_args_and_only_a_word_after_them_names_the_queue()
    {
        var c = Load(("JOBD_CRON_A", "* * * * * noop {\"n\":\"x queue=y\"}"),
            ("JOBD_CRON_B", "* * * * * noop {\"n\": \"x queue=y\", \"m\": {\"k\": \"}\"}}   queue=low"),
            ("JOBD_CRON_C", "@hourly noop\tqueue=q1"));
        Assert.Equal("{\"n\":\"x queue=y\"}", c.Entries[0].ArgsJson);
        Assert.Equal("default", c.Entries[0].Queue);
        Assert.Equal("{\"n\": \"x queue=y\", \"m\": {\"k\": \"}\"}}", c.Entries[1].ArgsJson);
        Assert.Equal("low", c.Entries[1].Queue);
        Assert.Equal("{}", c.Entries[2].ArgsJson);
        Assert.Equal("q1", c.Entries[2].Queue);
        Assert.Contains("only queue=Q may follow the args", Refused(("JOBD_CRON_X", "* * * * * noop {\"a\": 1} queue=low extra")));
        Assert.Contains("only queue=Q may follow the args", Refused(("JOBD_CRON_X", "* * * * * noop {\"a\": 1} low")));
    }

    [Theory]
    [InlineData("JOBD_CRON_X", "61 * * * * noop", "JOBD_CRON_X: cron expression \"61 * * * *\": minute \"61\" is out of range 0-59")]
    [InlineData("JOBD_CRON_X", "0 0 30 2 * noop", "JOBD_CRON_X: cron expression \"0 0 30 2 *\" never fires")]
    [InlineData("JOBD_CRON_X", "* * * * noop", "JOBD_CRON_X: expected \"EXPRESSION TYPE [ARGS_JSON] [queue=Q]\", got 5 word(s)")]
    [InlineData("JOBD_CRON_X", "* * * * * * * noop", "JOBD_CRON_X: expected")]
    [InlineData("JOBD_CRON_X", "@daily", "JOBD_CRON_X: expected")]
    [InlineData("JOBD_CRON_X", "@daily noop extra", "after an @alias comes only the type")]
    [InlineData("JOBD_CRON_X", "@every 5m noop", "JOBD_CRON_X: expected")]
    [InlineData("JOBD_CRON_X", "@often noop", "unknown alias \"@often\"")]
    [InlineData("JOBD_CRON_X", "* * * * * no/pe", "type \"no/pe\" is not valid")]
    [InlineData("JOBD_CRON_X", "* * * * * noop queue=a.b", "queue \"a.b\" is not valid")]
    [InlineData("JOBD_CRON_X", "* * * * * noop {\"a\":", "args are not one JSON object: malformed or incomplete JSON")]
    [InlineData("JOBD_CRON_X", "* * * * * noop {} {}", "args are not one JSON object")]
    [InlineData("JOBD_CRON_X", "* * * * * noop [1]", "type \"[1]\" is not valid")]
    [InlineData("JOBD_CRON_a-b", "* * * * * noop", "\"JOBD_CRON_a-b\": invalid schedule name")]
    [InlineData("JOBD_CRON_TZ", "Mars/Olympus", "JOBD_CRON_TZ: \"Mars/Olympus\" is not a time zone")]
    [InlineData("JOBD_CRON_CATCHUP", "2d", "JOBD_CRON_CATCHUP: \"2d\" is out of range")]
    public void Bad_values_are_refused_in_one_line_naming_the_variable(string name, string value, string want)
    {
        var message = Refused((name, value));
        Assert.Contains(want, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void A_name_longer_than_forty_characters_is_refused()
    {
        var name = "JOBD_CRON_" + new string('A', 41);
        Assert.Contains("invalid schedule name", Refused((name, "* * * * * noop")));
        Assert.Single(Load(("JOBD_CRON_" + new string('A', 40), "* * * * * noop")).Entries);
    }

    [Fact]
    public void Effective_config_lists_zone_catchup_and_each_schedule()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["JOBD_CRON_A"] = "@hourly noop queue=q1" };
        var list = ConfigPrinter.Effective(ConfigLoader.Load(env), env);
        Assert.Contains(("JOBD_CRON_TZ", (string?)"UTC", true), list);
        Assert.Contains(("JOBD_CRON_CATCHUP", (string?)"1m", true), list);
        Assert.Contains(("JOBD_CRON_A", (string?)"@hourly noop {} queue=q1", false), list);
    }
}
