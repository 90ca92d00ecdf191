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
    public static readonly TimeSpan HeartbeatDefault = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan JobTimeoutDefault = TimeSpan.FromMinutes(30);
    public const int MaxRecoveriesDefault = 3;
    public static readonly TimeSpan DoneTtlDefault = TimeSpan.FromHours(24);
    public static readonly TimeSpan DeadTtlDefault = TimeSpan.FromDays(7);
    public const int DeadMaxDefault = 10_000;
    public static readonly TimeSpan ShutdownTimeoutDefault = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ShutdownTimeoutMax = TimeSpan.FromHours(1);
    public static readonly TimeSpan CancelGraceDefault = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan EnqueueWaitTimeoutDefault = TimeSpan.FromSeconds(1);

    public static readonly ConfigVariable RedisUrl = new("REDIS_URL",
        "URL: redis://[user[:password]@]host[:port][/db], rediss:// for TLS, redis+sentinel://[user[:password]@]host[:port][,host[:port]...]/master[/db]", "redis://127.0.0.1:6379/0",
        "The Redis server holding the queues (Sentinel and Cluster: docs/redis-topologies.md). The password is percent-decoded and never printed.");

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

    public static readonly ConfigVariable EnqueueWaitReplicas = new(Prefix + "ENQUEUE_WAIT_REPLICAS",
        "integer, 0–16", "0",
        "`jobd enqueue` waits (Redis WAIT) until this many replicas have its jobs; fewer within JOBD_ENQUEUE_WAIT_TIMEOUT is an error (exit 69): the jobs are on the primary but would be lost if it failed. 0: no wait (docs/redis-topologies.md).");

    public static readonly ConfigVariable EnqueueWaitTimeout = new(Prefix + "ENQUEUE_WAIT_TIMEOUT",
        "duration, 10ms–1m", ValueParsers.FormatDuration(EnqueueWaitTimeoutDefault),
        "How long `jobd enqueue` waits for JOBD_ENQUEUE_WAIT_REPLICAS replicas.");

    public static readonly ConfigVariable Queues = new(Prefix + "QUEUES",
        "comma-separated queue names, highest priority first", "default",
        "The queues this worker takes jobs from, in strict priority order: a job of a later queue runs only when every earlier queue is empty.");

    public static readonly ConfigVariable Heartbeat = new(Prefix + "HEARTBEAT",
        "duration, 500ms–1m", ValueParsers.FormatDuration(HeartbeatDefault),
        "How often a busy worker renews the lease of its running job; a lease lasts three intervals, so a job whose worker died runs again within about four.");

    public static readonly ConfigVariable JobTimeout = new(Prefix + "JOB_TIMEOUT",
        "duration, 1s–24h", ValueParsers.FormatDuration(JobTimeoutDefault),
        "Timeout of one attempt for jobs enqueued without their own; the handler is cancelled and the attempt counts as a retryable failure.");

    public static readonly ConfigVariable MaxRecoveries = new(Prefix + "MAX_RECOVERIES",
        "integer, 1–100", MaxRecoveriesDefault.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "A job recovered this many times from workers that died while running it goes to dead (reason worker_lost), so it cannot crash-loop the fleet.");

    public static readonly ConfigVariable DoneTtl = new(Prefix + "DONE_TTL",
        "duration, 1m–90d", ValueParsers.FormatDuration(DoneTtlDefault),
        "How long a finished job's data stays in Redis.");

    public static readonly ConfigVariable DeadTtl = new(Prefix + "DEAD_TTL",
        "duration, 1h–365d", ValueParsers.FormatDuration(DeadTtlDefault),
        "How long a dead job stays in Redis for inspection and retry.");

    public static readonly ConfigVariable DeadMax = new(Prefix + "DEAD_MAX",
        "integer, 1–10000000", DeadMaxDefault.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "At most this many dead jobs are kept; the oldest go first.");

    public static readonly ConfigVariable MaxJobs = new(Prefix + "MAX_JOBS",
        "integer, 0–1000000000", "0",
        "Recycle after this many jobs: finish the current job, exit with code 75, and let the supervisor start a fresh process. 0: never.");

    public static readonly ConfigVariable MaxRssMb = new(Prefix + "MAX_RSS_MB",
        "integer, 0–65536", "0",
        "Recycle (as JOBD_MAX_JOBS) once resident memory passes this many MB, checked every control tick. 0: never.");

    public static readonly ConfigVariable LogJobs = new(Prefix + "LOG_JOBS",
        "boolean", "false",
        "Log a line at info when each job starts and when it is done (without it, both at debug). Independent of this: a job that fails for good is logged at error, a retry at warn.");

    public static readonly ConfigVariable ShutdownTimeout = new(Prefix + "SHUTDOWN_TIMEOUT",
        "duration, 0s–1h", ValueParsers.FormatDuration(ShutdownTimeoutDefault),
        "Grace period after SIGTERM/SIGINT for the running job before it is put back in its queue.");

    public static readonly ConfigVariable CancelGrace = new(Prefix + "CANCEL_GRACE",
        "duration, 1s–10m", ValueParsers.FormatDuration(CancelGraceDefault),
        "How long a cancelled handler (timeout, end of the shutdown grace) may take to return; one still running then is stuck: jobd logs it and exits with code 70, and the job is recovered by another worker.");

    public static readonly ConfigVariable LogLevel = new(Prefix + "LOG_LEVEL",
        "debug, info, warn or error", "info",
        "The lowest level written; lines below it are never formatted.");

    public static readonly ConfigVariable LogFormat = new(Prefix + "LOG_FORMAT",
        "auto, text, json or journal", "auto",
        "text for terminals, json (one object per line) for containers, journal (syslog priority prefixes). auto: journal when JOURNAL_STREAM names stderr's device:inode (systemd), text otherwise.");

    public static readonly ConfigVariable Route = new(Prefix + "ROUTE_<TYPE>",
        "http:URL, exec:/PROGRAM [ARGS…] or sql:[SCHEMA.]FUNCTION", null,
        "Runs jobs of the type after JOBD_ROUTE_ by a POST to the URL, a program given by its absolute path (job JSON on stdin, no shell) or a Postgres function (public. unless qualified; docs/handlers.md). A type that also has a compiled-in handler (noop, sleep, fail, ledger or one of yours) is refused at start-up.",
        familyPrefix: Prefix + "ROUTE_");

    public static readonly ConfigVariable DefaultRoute = new(Prefix + "DEFAULT_ROUTE",
        "as JOBD_ROUTE_*; {type} allowed in an http URL's path or query", null,
        "The route for every type without a handler or route of its own; {type} is replaced by the percent-encoded job type.");

    public static readonly ConfigVariable HttpSecret = new(Prefix + "HTTP_SECRET",
        "text, at least 16 characters", null,
        "Signs each http request: X-Jobd-Signature: t=UNIX,v1=HEX, the HMAC-SHA256 of \"UNIX.BODY\" (docs/handlers.md). Never printed.");

    public static readonly ConfigVariable HttpSecretNext = new(Prefix + "HTTP_SECRET_NEXT",
        "text, at least 16 characters", null,
        "The next secret during a rotation: requests then carry a second v1= signature made with it. Never printed.");

    public static readonly ConfigVariable HttpAllow = new(Prefix + "HTTP_ALLOW",
        "comma-separated host names", null,
        "When set, http routes may reach these hosts only (checked at start-up and again on every URL built). Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) are refused unless their host is listed here.");

    public static readonly ConfigVariable HttpRedirects = new(Prefix + "HTTP_REDIRECTS",
        "boolean", "false",
        "Follow redirects of http routes within the same origin only (scheme, host and port unchanged; at most 3). A redirect elsewhere, or any 3xx when off, is a permanent failure.");

    public static readonly ConfigVariable MaxResultBytes = new(Prefix + "MAX_RESULT_BYTES",
        "size, 1KB–16MB", "64KB",
        "The most of an http body, a program's stdout or a sql function's JSON kept as a job's result; more is not kept, and the result is marked truncated. A program writing more than 4 times this (at least 1MB) on stdout is ended and its job fails (output_too_large).");

    public static readonly ConfigVariable ExecEnv = new(Prefix + "EXEC_ENV",
        "comma-separated variable names", Jobd.Handlers.Routes.RouteTable.ExecEnvDefault,
        "The only variables of jobd's environment passed to exec programs, besides JOBD_JOB_ID, JOBD_JOB_TYPE and JOBD_JOB_ATTEMPT.");

    public static readonly ConfigVariable ExecDir = new(Prefix + "EXEC_DIR",
        "path to a directory", null,
        "Working directory of exec programs. Unset: jobd's own.");
    public static readonly ConfigVariable PgSchema = new(Prefix + "PG_SCHEMA",
        Jobd.Postgres.PostgresOptions.SchemaRule, Jobd.Postgres.PostgresOptions.SchemaDefault,
        "The Postgres schema of jobd's tables (outcomes, migrations); created by the migrations if missing.");

    public static readonly ConfigVariable PgPoolMax = new(Prefix + "PG_POOL_MAX",
        "integer, 1–10", Jobd.Postgres.PostgresOptions.PoolMaxDefault.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "Most Postgres connections jobd opens at once.");

    public static readonly ConfigVariable PgIdle = new(Prefix + "PG_IDLE",
        "duration, 1s–1h", ValueParsers.FormatDuration(Jobd.Postgres.PostgresOptions.IdleLifetimeDefault),
        "A Postgres connection unused this long is closed (checked every 10 s).");

    public static readonly ConfigVariable PgPrepare = new(Prefix + "PG_PREPARE",
        "boolean", "false",
        "Prepare frequent statements on the server. Leave off behind PgBouncer in transaction mode.");

    public static readonly ConfigVariable PgCommandTimeout = new(Prefix + "PG_COMMAND_TIMEOUT",
        "duration, 1s–10m", ValueParsers.FormatDuration(Jobd.Postgres.PostgresOptions.CommandTimeoutDefault),
        "How long one Postgres command may take before it is cancelled and retried.");

    public static readonly ConfigVariable OutboxMax = new(Prefix + "OUTBOX_MAX",
        "integer, 100–100000000", OutboxMaxDefault.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "Outcomes waiting in the Redis outbox for Postgres at which workers stop taking new jobs (the running one still settles) until the sink catches up. Never dropped.");

    public const long OutboxMaxDefault = 100_000;
    // Cron: TZ and CATCHUP come before the JOBD_CRON_<NAME> family in All, so those two names are never schedules.
    public static readonly ConfigVariable CronTz = new(Prefix + "CRON_TZ",
        "IANA time zone name, e.g. Europe/Berlin", Jobd.Cron.CronSettings.ZoneDefault,
        "The time zone of every cron schedule; DST changes are handled like cron does (docs/cron.md).");

    public static readonly ConfigVariable CronCatchup = new(Prefix + "CRON_CATCHUP",
        "duration, 0s–1d", ValueParsers.FormatDuration(Jobd.Cron.CronSettings.CatchupDefault),
        "How late a cron fire missed during downtime may still be enqueued; at most the latest missed fire is, once. 0: fires are enqueued only on time (within 10 s).");

    public static readonly ConfigVariable CronSchedule = new(Prefix + "CRON_<NAME>",
        "\"EXPRESSION TYPE [ARGS_JSON] [queue=Q]\"", null,
        "A cron schedule named NAME (1-40 of A-Z a-z 0-9 _): each fire enqueues one job across all replicas (docs/cron.md).",
        familyPrefix: Prefix + "CRON_");
    public static readonly ConfigVariable MetricsAddr = new(Prefix + "METRICS_ADDR",
        Jobd.Ops.Metrics.MetricsAddress.Form, null,
        "Serve Prometheus metrics at http://ADDR/metrics (see docs/operations.md). Unset: no listener, no cost.");

    public static readonly ConfigVariable LedgerDir = new(Prefix + "LEDGER_DIR",
        "path to a folder", null,
        "For tests and demos: the built-in `ledger` handler records each run in ledger.PID files here. Unset: ledger jobs fail.");

    public static readonly ConfigVariable[] All =
    {
        RedisUrl, DatabaseUrl, RedisCaFile, RedisTlsInsecure, RedisConnectTimeout, RedisMaxReply,
        QueuePrefix, MaxJobBytes, EnqueueWaitReplicas, EnqueueWaitTimeout, Queues, Heartbeat, JobTimeout, MaxRecoveries, DoneTtl, DeadTtl, DeadMax, MaxJobs, MaxRssMb,
        ShutdownTimeout, CancelGrace, LogLevel, LogFormat, LogJobs,
        Route, DefaultRoute, HttpSecret, HttpSecretNext, HttpAllow, HttpRedirects, MaxResultBytes, ExecEnv, ExecDir,
        PgSchema, PgPoolMax, PgIdle, PgPrepare, PgCommandTimeout, OutboxMax,
        CronTz, CronCatchup, CronSchedule,
        MetricsAddr,
        LedgerDir,
    };
}
