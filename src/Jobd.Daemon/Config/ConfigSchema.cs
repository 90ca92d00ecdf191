using System;

namespace Jobd.Config;

/// <summary>
/// Every variable jobd reads, with its form, default and meaning. The loader reads only these, anything else
/// named JOBD_* is refused, and the README's reference table is generated from this list (a test keeps it true).
/// </summary>
public static class ConfigSchema
{
    public const string Prefix = "JOBD_";

    public static readonly TimeSpan RedisConnectTimeoutDefault = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan RedisConnectTimeoutMin = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan RedisConnectTimeoutMax = TimeSpan.FromMinutes(5);
    public const long RedisMaxReplyDefault = 64L << 20;
    public const long RedisMaxReplyMin = 1L << 10;
    public const long RedisMaxReplyMax = 1L << 30;
    public const long MaxJobBytesMin = 1L << 10;
    public const long MaxJobBytesMax = 64L << 20;
    public static readonly TimeSpan ShutdownTimeoutDefault = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ShutdownTimeoutMax = TimeSpan.FromHours(1);

    public static readonly ConfigVariable RedisUrl = new("REDIS_URL",
        "URL: redis://[user[:password]@]host[:port][/db], rediss:// for TLS", "redis://127.0.0.1:6379/0",
        "The Redis server holding the queues. The password is percent-decoded and never printed.");

    public static readonly ConfigVariable DatabaseUrl = new(DatabaseSettings.Variable,
        "postgres://user:password@host:port/db?sslmode=… or libpq key=value pairs", null,
        "The Postgres database for outcomes. Unset: outcomes stay in Redis for their TTL.");

    public static readonly ConfigVariable RedisCaFile = new(Prefix + "REDIS_CA_FILE",
        "path to a PEM file", null,
        "CA certificate(s) that a rediss:// server's certificate must chain to, instead of the system store.");

    public static readonly ConfigVariable RedisTlsInsecure = new(Prefix + "REDIS_TLS_INSECURE",
        "boolean", "false",
        "Skip verification of the rediss:// server certificate. Logged as a warning at every start; for tests only.");

    public static readonly ConfigVariable RedisConnectTimeout = new(Prefix + "REDIS_CONNECT_TIMEOUT",
        "duration, 100ms–5m", ValueParsers.FormatDuration(RedisConnectTimeoutDefault),
        "How long one connection attempt to Redis may take (TCP, TLS and authentication).");

    public static readonly ConfigVariable RedisMaxReply = new(Prefix + "REDIS_MAX_REPLY",
        "size, 1KB–1GB", ValueParsers.FormatSize(RedisMaxReplyDefault),
        "The largest reply jobd accepts from Redis; a larger one closes the connection with an error.");

    public static readonly ConfigVariable QueuePrefix = new(Prefix + "PREFIX",
        "1-32 of A-Z a-z 0-9 _ . -", Jobd.Queue.QueueKeys.PrefixDefault,
        "Starts every Redis key, as the hash tag {PREFIX}: applications sharing a Redis keep apart by prefix.");

    public static readonly ConfigVariable MaxJobBytes = new(Prefix + "MAX_JOB_BYTES",
        "size, 1KB–64MB", ValueParsers.FormatSize(Jobd.Queue.EnqueueCheck.MaxJobBytesDefault),
        "The largest job arguments accepted; `jobd enqueue` refuses larger ones. Must be below JOBD_REDIS_MAX_REPLY.");

    public static readonly ConfigVariable ShutdownTimeout = new(Prefix + "SHUTDOWN_TIMEOUT",
        "duration, 0s–1h", ValueParsers.FormatDuration(ShutdownTimeoutDefault),
        "Grace period after SIGTERM/SIGINT for the running job before it is put back in its queue.");

    public static readonly ConfigVariable LogLevel = new(Prefix + "LOG_LEVEL",
        "debug, info, warn or error", "info",
        "The lowest level written; lines below it are never formatted.");

    public static readonly ConfigVariable LogFormat = new(Prefix + "LOG_FORMAT",
        "auto, text, json or journal", "auto",
        "text for terminals, json (one object per line) for containers, journal (syslog priority prefixes). auto: journal when JOURNAL_STREAM is set (systemd), text otherwise.");

    public static readonly ConfigVariable[] All =
    {
        RedisUrl, DatabaseUrl, RedisCaFile, RedisTlsInsecure, RedisConnectTimeout, RedisMaxReply,
        QueuePrefix, MaxJobBytes, ShutdownTimeout, LogLevel, LogFormat,
    };
}
