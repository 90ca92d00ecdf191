using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Cron;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Cli;

/// <summary>
/// `jobd cron [list]`: every configured schedule with its next fire (in the configured zone and in UTC) and its
/// last fire as recorded in Redis. Redis is optional here: when it cannot be reached the last fires are shown as
/// unknown and the command still succeeds, so a schedule can be checked before anything runs.
/// </summary>
public static class CronVerb
{
    /// <summary>How long the last fires are waited for: the list is useful without them.</summary>
    private static readonly TimeSpan RedisWaitMax = TimeSpan.FromSeconds(2);

    private const string Unreachable = "unknown (redis unreachable)";

    public static async Task<int> RunAsync(CommandLine cmd, JobdConfig config, TextWriter stdout, TextWriter stderr)
    {
        if (cmd.Positionals.Count > 0 && cmd.Positionals[0] != "list")
        {
            stderr.WriteLine($"jobd: cron: unknown sub-command \"{TextEscape.Escape(cmd.Positionals[0], 40)}\"; usage: {Verb.Cron.UsageLine}");
            return ExitCodes.Usage;
        }
        var cron = config.Cron;
        var (last, problem) = await ReadLastFiresAsync(config).ConfigureAwait(false);
        var now = DateTime.UtcNow;
        if (cmd.Has("--json")) WriteJson(stdout, cron, now, last, problem);
        else WriteText(stdout, cron, now, last, problem);
        return ExitCodes.Ok;
    }

    private static async Task<(Dictionary<string, long>? Last, string? Problem)> ReadLastFiresAsync(JobdConfig config)
    {
        if (config.Cron.Entries.Count == 0) return (new Dictionary<string, long>(), null);
        var options = config.Redis with { ConnectTimeout = config.Redis.ConnectTimeout < RedisWaitMax ? config.Redis.ConnectTimeout : RedisWaitMax };
        try
        {
            await using var redis = await OneShotRedis.ConnectAsync(options).ConfigureAwait(false);
            return (await CronProtocol.ReadLastFiresAsync(redis, config.Keys).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
            return (null, TextEscape.Escape(e.Message, 200));
        }
    }

    private static string LastText(Dictionary<string, long>? last, CronEntry e, TimeZoneInfo zone)
    {
        if (last is null) return Unreachable;
        if (!last.TryGetValue(e.Name, out var ms)) return "never";
        var utc = DateTime.UnixEpoch.AddMilliseconds(ms);
        return CronTimes.Local(utc, zone) + " (" + CronTimes.Utc(utc) + ")";
    }

    private static void WriteText(TextWriter stdout, CronSettings cron, DateTime now, Dictionary<string, long>? last, string? problem)
    {
        var sb = new StringBuilder();
        if (cron.Entries.Count == 0)
        {
            stdout.WriteLine("no cron schedules (set JOBD_CRON_<NAME>=\"EXPRESSION TYPE [ARGS_JSON] [queue=Q]\"; see docs/cron.md)");
            return;
        }
        sb.Append("zone ").Append(cron.ZoneName).Append(", catch-up ").Append(ValueParsers.FormatDuration(cron.Catchup)).Append('\n');
        if (problem is not null) sb.Append("last fires unknown: ").Append(problem).Append('\n');
        var rows = new List<string[]> { new[] { "NAME", "EXPRESSION", "TYPE", "QUEUE", "NEXT (" + cron.ZoneName + ")", "NEXT (UTC)", "LAST FIRE" } };
        foreach (var e in cron.Entries)
        {
            var next = e.Schedule.NextAfter(now);
            rows.Add(new[]
            {
                e.Name, e.Expression.Text, e.Type, e.Queue,
                next is null ? "never" : CronTimes.Local(next.Value, cron.Zone), next is null ? "never" : CronTimes.Utc(next.Value),
                LastText(last, e, cron.Zone),
            });
        }
        var widths = new int[rows[0].Length];
        foreach (var r in rows)
            for (int c = 0; c < r.Length; c++) widths[c] = Math.Max(widths[c], r[c].Length);
        foreach (var r in rows)
        {
            for (int c = 0; c < r.Length; c++)
            {
                sb.Append(c == r.Length - 1 ? r[c] : r[c].PadRight(widths[c]));
                if (c < r.Length - 1) sb.Append("  ");
            }
            sb.Append('\n');
        }
        stdout.Write(sb.ToString());
    }

    private static void WriteJson(TextWriter stdout, CronSettings cron, DateTime now, Dictionary<string, long>? last, string? problem) =>
        AdminText.WriteJson(stdout, w =>
        {
            w.WriteStartObject();
            w.WriteString("zone", cron.ZoneName);
            w.WriteString("catchup", ValueParsers.FormatDuration(cron.Catchup));
            if (problem is null) w.WriteNull("redis_error");
            else w.WriteString("redis_error", problem);
            w.WriteStartArray("schedules");
            foreach (var e in cron.Entries)
            {
                var next = e.Schedule.NextAfter(now);
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("expression", e.Expression.Text);
                w.WriteString("type", e.Type);
                w.WriteString("queue", e.Queue);
                w.WritePropertyName("args");
                w.WriteRawValue(e.ArgsJson);
                if (next is null)
                {
                    w.WriteNull("next");
                    w.WriteNull("next_utc");
                }
                else
                {
                    w.WriteString("next", CronTimes.Local(next.Value, cron.Zone));
                    w.WriteString("next_utc", CronTimes.Utc(next.Value));
                }
                // null: never fired; absent: unknown (Redis unreachable).
                if (last is not null)
                {
                    if (last.TryGetValue(e.Name, out var ms)) w.WriteString("last_utc", CronTimes.Utc(DateTime.UnixEpoch.AddMilliseconds(ms)));
                    else w.WriteNull("last_utc");
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
}
