using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using Jobd.Ops;
using Jobd.Resp;

namespace Jobd.Config;

/// <summary>
/// Builds <see cref="JobdConfig"/> from environment variables, and nothing else. Refuses, with a
/// <see cref="ConfigException"/> naming the variable, any unknown JOBD_* name and any malformed or out-of-range
/// value. An empty value counts as unset, so `JOBD_X=` in an env file restores the default.
/// </summary>
public static class ConfigLoader
{
    public static Dictionary<string, string> ProcessEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            env[(string)e.Key] = (string?)e.Value ?? "";
        return env;
    }

    public static JobdConfig Load(IReadOnlyDictionary<string, string> env)
    {
        RefuseUnknown(env);
        var reader = new Reader(env);
        var redis = LoadRedis(reader);
        var dbText = reader.Text(ConfigSchema.DatabaseUrl);
        var prefix = reader.Text(ConfigSchema.QueuePrefix) ?? Jobd.Queue.QueueKeys.PrefixDefault;
        if (!Jobd.Queue.Names.IsPrefix(prefix))
            throw new ConfigException(ConfigSchema.QueuePrefix.Name, ValueText.Quote(prefix) + " is not a valid prefix; " + Jobd.Queue.Names.PrefixRule);
        long maxJobBytes = reader.Size(ConfigSchema.MaxJobBytes, Jobd.Queue.EnqueueCheck.MaxJobBytesDefault,
            ConfigSchema.MaxJobBytesMin, ConfigSchema.MaxJobBytesMax);
        // A job must fit in a reply with room for its other fields, or a worker could never fetch it.
        if (maxJobBytes >= redis.MaxReplyBytes)
        {
            var blamed = reader.Text(ConfigSchema.MaxJobBytes) is null ? ConfigSchema.RedisMaxReply : ConfigSchema.MaxJobBytes;
            throw new ConfigException(blamed.Name, $"JOBD_MAX_JOB_BYTES ({ValueParsers.FormatSize(maxJobBytes)}) must be below JOBD_REDIS_MAX_REPLY ({ValueParsers.FormatSize(redis.MaxReplyBytes)})");
        }
        return new JobdConfig
        {
            Redis = redis,
            Database = dbText is null ? null : DatabaseSettings.Parse(dbText),
            Routes = Jobd.Handlers.Routes.RouteTable.Load(reader, dbText is null ? null : DatabaseSettings.Parse(dbText)),
            Keys = new Jobd.Queue.QueueKeys(prefix),
            MaxJobBytes = maxJobBytes,
            EnqueueWait = LoadEnqueueWait(reader),
            Queues = reader.List(ConfigSchema.Queues, "default", Jobd.Queue.Names.IsQueue, Jobd.Queue.Names.QueueRule),
            Heartbeat = reader.Duration(ConfigSchema.Heartbeat, ConfigSchema.HeartbeatDefault, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(1)),
            JobTimeout = reader.Duration(ConfigSchema.JobTimeout, ConfigSchema.JobTimeoutDefault, TimeSpan.FromSeconds(1), TimeSpan.FromHours(24)),
            MaxRecoveries = (int)reader.Int(ConfigSchema.MaxRecoveries, ConfigSchema.MaxRecoveriesDefault, 1, 100),
            DoneTtl = reader.Duration(ConfigSchema.DoneTtl, ConfigSchema.DoneTtlDefault, TimeSpan.FromMinutes(1), TimeSpan.FromDays(90)),
            DeadTtl = reader.Duration(ConfigSchema.DeadTtl, ConfigSchema.DeadTtlDefault, TimeSpan.FromHours(1), TimeSpan.FromDays(365)),
            DeadMax = (int)reader.Int(ConfigSchema.DeadMax, ConfigSchema.DeadMaxDefault, 1, 10_000_000),
            LogJobs = reader.Bool(ConfigSchema.LogJobs, false),
            MaxJobs = reader.Int(ConfigSchema.MaxJobs, 0, 0, 1_000_000_000),
            MaxRssMb = reader.Int(ConfigSchema.MaxRssMb, 0, 0, 65_536),
            Postgres = LoadPostgres(reader),
            OutboxMax = reader.Int(ConfigSchema.OutboxMax, ConfigSchema.OutboxMaxDefault, 100, 100_000_000),
            ShutdownTimeout = reader.Duration(ConfigSchema.ShutdownTimeout, ConfigSchema.ShutdownTimeoutDefault,
                TimeSpan.Zero, ConfigSchema.ShutdownTimeoutMax),
            CancelGrace = reader.Duration(ConfigSchema.CancelGrace, ConfigSchema.CancelGraceDefault, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)),
            LogLevel = reader.Choice(ConfigSchema.LogLevel, LogLevel.Info,
                ("debug", LogLevel.Debug), ("info", LogLevel.Info), ("warn", LogLevel.Warn), ("error", LogLevel.Error)),
            LogFormat = ResolveLogFormat(reader.Choice(ConfigSchema.LogFormat, LogFormat.Auto,
                ("auto", LogFormat.Auto), ("text", LogFormat.Text), ("json", LogFormat.Json), ("journal", LogFormat.Journal)), env),
            Cron = Jobd.Cron.CronLoader.Load(reader),
            MetricsAddress = LoadMetricsAddress(reader),
            LedgerDir = reader.Text(ConfigSchema.LedgerDir),
        };
    }

    private static RedisOptions LoadRedis(Reader reader)
    {
        var url = reader.Text(ConfigSchema.RedisUrl) ?? ConfigSchema.RedisUrl.Default!;
        if (!RedisOptions.TryParseUrl(url, out var parsed, out var error))
            throw new ConfigException(ConfigSchema.RedisUrl.Name, error + "; expected " + ConfigSchema.RedisUrl.Form);
        var caFile = reader.Text(ConfigSchema.RedisCaFile);
        bool insecure = reader.Bool(ConfigSchema.RedisTlsInsecure, false);
        if (!parsed!.UseTls && (caFile is not null || insecure))
            throw new ConfigException(caFile is not null ? ConfigSchema.RedisCaFile.Name : ConfigSchema.RedisTlsInsecure.Name,
                "applies to TLS only, but REDIS_URL is not rediss://");
        if (caFile is not null && !File.Exists(caFile))
            throw new ConfigException(ConfigSchema.RedisCaFile.Name, "no file at " + ValueText.Quote(caFile) + "; expected " + ConfigSchema.RedisCaFile.Form);
        return parsed with
        {
            CaFile = caFile,
            TlsInsecure = insecure,
            ConnectTimeout = reader.Duration(ConfigSchema.RedisConnectTimeout, ConfigSchema.RedisConnectTimeoutDefault,
                ConfigSchema.RedisConnectTimeoutMin, ConfigSchema.RedisConnectTimeoutMax),
            MaxReplyBytes = reader.Size(ConfigSchema.RedisMaxReply, ConfigSchema.RedisMaxReplyDefault,
                ConfigSchema.RedisMaxReplyMin, ConfigSchema.RedisMaxReplyMax),
        };
    }

    private static Jobd.Queue.ReplicaWait? LoadEnqueueWait(Reader reader)
    {
        int replicas = (int)reader.Int(ConfigSchema.EnqueueWaitReplicas, 0, 0, 16);
        var timeout = reader.Duration(ConfigSchema.EnqueueWaitTimeout, ConfigSchema.EnqueueWaitTimeoutDefault,
            TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));
        return replicas == 0 ? null : new Jobd.Queue.ReplicaWait(replicas, timeout);
    }

    private static Jobd.Postgres.PostgresOptions LoadPostgres(Reader reader)
    {
        var schema = reader.Text(ConfigSchema.PgSchema) ?? Jobd.Postgres.PostgresOptions.SchemaDefault;
        if (!Jobd.Postgres.PostgresOptions.IsSchemaName(schema))
            throw new ConfigException(ConfigSchema.PgSchema.Name, ValueText.Quote(schema) + " is not a valid schema name; expected " + Jobd.Postgres.PostgresOptions.SchemaRule);
        return new Jobd.Postgres.PostgresOptions(schema,
            (int)reader.Int(ConfigSchema.PgPoolMax, Jobd.Postgres.PostgresOptions.PoolMaxDefault, 1, 10),
            reader.Duration(ConfigSchema.PgIdle, Jobd.Postgres.PostgresOptions.IdleLifetimeDefault, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            reader.Bool(ConfigSchema.PgPrepare, false),
            reader.Duration(ConfigSchema.PgCommandTimeout, Jobd.Postgres.PostgresOptions.CommandTimeoutDefault, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)));
    }

    private static System.Net.IPEndPoint? LoadMetricsAddress(Reader reader)
    {
        var text = reader.Text(ConfigSchema.MetricsAddr);
        if (text is null) return null;
        if (!Jobd.Ops.Metrics.MetricsAddress.TryParse(text, out var endpoint, out var problem))
            throw new ConfigException(ConfigSchema.MetricsAddr.Name, ValueText.Quote(text) + ": " + problem + "; expected " + ConfigSchema.MetricsAddr.Form);
        return endpoint;
    }

    private static LogFormat ResolveLogFormat(LogFormat chosen, IReadOnlyDictionary<string, string> env)
    {
        if (chosen != LogFormat.Auto) return chosen;
        // systemd sets JOURNAL_STREAM when stdout/stderr go to the journal, and children inherit it whatever their
        // stderr is: journal only when it names stderr itself (systemd.exec(5)).
        return env.TryGetValue("JOURNAL_STREAM", out var js) && JournalStream.IsStderr(js) ? LogFormat.Journal : LogFormat.Text;
    }

    private static void RefuseUnknown(IReadOnlyDictionary<string, string> env)
    {
        var unknown = new List<string>();
        foreach (var name in env.Keys)
        {
            if (!name.StartsWith(ConfigSchema.Prefix, StringComparison.Ordinal)) continue;
            if (Find(name) is null) unknown.Add(name);
        }
        if (unknown.Count == 0) return;
        unknown.Sort(StringComparer.Ordinal);
        var hint = DidYouMean.Closest(unknown[0], ConfigSchema.All);
        // The name comes from the environment: escaped and cut like a value, so it cannot break the line.
        var shown = IsPlainName(unknown[0]) ? unknown[0] : ValueText.Quote(unknown[0]);
        throw new ConfigException(shown, "unknown variable" + (hint is null ? "" : "; did you mean " + hint + "?")
                                              + " (`jobd config --help` lists the variables)");
    }

    private static bool IsPlainName(string name)
    {
        if (name.Length > 64) return false;
        foreach (char c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        return true;
    }

    private static ConfigVariable? Find(string name)
    {
        foreach (var v in ConfigSchema.All)
            if (v.Matches(name)) return v;
        return null;
    }
}
