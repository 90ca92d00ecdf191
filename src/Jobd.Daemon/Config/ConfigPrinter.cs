using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using Jobd.Ops;

namespace Jobd.Config;

/// <summary>
/// Renders the effective configuration for `jobd config` (text or JSON) and the reference table for the README.
/// Secrets never pass through here: URLs are printed in their redacted forms.
/// </summary>
public static class ConfigPrinter
{
    public static List<(string Name, string? Value, bool IsDefault)> Effective(JobdConfig c, IReadOnlyDictionary<string, string> env)
    {
        var list = new List<(string, string?, bool)>();
        void Add(ConfigVariable v, string? value) =>
            list.Add((v.Name, value, !env.TryGetValue(v.Name, out var s) || s.Trim().Length == 0));
        Add(ConfigSchema.RedisUrl, c.Redis.Redacted());
        Add(ConfigSchema.DatabaseUrl, c.Database?.Redacted());
        Add(ConfigSchema.RedisCaFile, c.Redis.CaFile);
        Add(ConfigSchema.RedisTlsInsecure, c.Redis.TlsInsecure ? "true" : "false");
        Add(ConfigSchema.RedisConnectTimeout, ValueParsers.FormatDuration(c.Redis.ConnectTimeout));
        Add(ConfigSchema.RedisMaxReply, ValueParsers.FormatSize(c.Redis.MaxReplyBytes));
        Add(ConfigSchema.QueuePrefix, c.Keys.Prefix);
        Add(ConfigSchema.MaxJobBytes, ValueParsers.FormatSize(c.MaxJobBytes));
        Add(ConfigSchema.Queues, string.Join(',', c.Queues));
        Add(ConfigSchema.Heartbeat, ValueParsers.FormatDuration(c.Heartbeat));
        Add(ConfigSchema.JobTimeout, ValueParsers.FormatDuration(c.JobTimeout));
        Add(ConfigSchema.MaxRecoveries, c.MaxRecoveries.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(ConfigSchema.DoneTtl, ValueParsers.FormatDuration(c.DoneTtl));
        Add(ConfigSchema.DeadTtl, ValueParsers.FormatDuration(c.DeadTtl));
        Add(ConfigSchema.DeadMax, c.DeadMax.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(ConfigSchema.MaxJobs, c.MaxJobs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(ConfigSchema.MaxRssMb, c.MaxRssMb.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(ConfigSchema.ShutdownTimeout, ValueParsers.FormatDuration(c.ShutdownTimeout));
        Add(ConfigSchema.LogLevel, c.LogLevel.ToString().ToLowerInvariant());
        Add(ConfigSchema.LogFormat, c.LogFormat.ToString().ToLowerInvariant());
        Add(ConfigSchema.LogJobs, c.LogJobs ? "true" : "false");
        Jobd.Handlers.Routes.RoutePrinter.Add(list, c.Routes, env);
        Add(ConfigSchema.PgSchema, c.Postgres.Schema);
        Add(ConfigSchema.PgPoolMax, c.Postgres.PoolMax.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(ConfigSchema.PgIdle, ValueParsers.FormatDuration(c.Postgres.IdleLifetime));
        Add(ConfigSchema.PgPrepare, c.Postgres.Prepare ? "true" : "false");
        Add(ConfigSchema.PgCommandTimeout, ValueParsers.FormatDuration(c.Postgres.CommandTimeout));
        Add(ConfigSchema.OutboxMax, c.OutboxMax.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Jobd.Cron.CronPrinter.AddEffective(list, c.Cron, env);
        Add(ConfigSchema.MetricsAddr, c.MetricsAddress?.ToString());
        Add(ConfigSchema.LedgerDir, c.LedgerDir);
        return list;
    }

    public static void WriteText(TextWriter output, JobdConfig c, IReadOnlyDictionary<string, string> env)
    {
        foreach (var (name, value, isDefault) in Effective(c, env))
            output.WriteLine(value is null ? $"{name} (unset)" : isDefault ? $"{name}={value} (default)" : $"{name}={value}");
    }

    public static void WriteJson(Stream output, JobdConfig c, IReadOnlyDictionary<string, string> env)
    {
        using (var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var (name, value, _) in Effective(c, env))
            {
                if (value is null) w.WriteNull(name);
                else w.WriteString(name, value);
            }
            w.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
    }

    /// <summary>The README's configuration table, generated from <see cref="ConfigSchema.All"/>.</summary>
    public static string ReferenceMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| variable | form | default | meaning |\n|---|---|---|---|\n");
        foreach (var v in ConfigSchema.All)
            sb.Append("| `").Append(v.Name).Append("` | ").Append(v.Form).Append(" | ")
              .Append(v.Default is null ? "unset" : "`" + v.Default + "`").Append(" | ").Append(v.Description).Append(" |\n");
        return sb.ToString();
    }
}
