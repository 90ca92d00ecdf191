using System;
using Jobd.Ops;
using Jobd.Resp;

namespace Jobd.Config;

/// <summary>
/// The effective configuration, built once at start-up from the environment by <see cref="ConfigLoader"/> and
/// never changed afterwards. Its ToString is not defined on purpose: print it with <see cref="ConfigPrinter"/>,
/// which redacts secrets.
/// </summary>
public sealed class JobdConfig
{
    public required RedisOptions Redis { get; init; }

    /// <summary>Null when DATABASE_URL is unset: outcomes then stay in Redis only.</summary>
    public DatabaseSettings? Database { get; init; }

    /// <summary>The key layout of the configured prefix, computed once.</summary>
    public required Jobd.Queue.QueueKeys Keys { get; init; }

    public required long MaxJobBytes { get; init; }

    /// <summary>JOBD_ENQUEUE_WAIT_REPLICAS and its timeout; null when enqueues do not wait for replicas.</summary>
    public Jobd.Queue.ReplicaWait? EnqueueWait { get; init; }

    /// <summary>Queue names, highest priority first.</summary>
    public required string[] Queues { get; init; }

    public required TimeSpan Heartbeat { get; init; }
    /// <summary>How long a silent worker stays listed in {P}:workers and its hash lives: long enough to outlast a
    /// Redis outage of several heartbeats without the worker vanishing from `jobd stats`.</summary>
    public TimeSpan WorkerTtl => 15 * Heartbeat;
    public required TimeSpan JobTimeout { get; init; }
    public required int MaxRecoveries { get; init; }
    public required TimeSpan DoneTtl { get; init; }
    public required TimeSpan DeadTtl { get; init; }
    public required int DeadMax { get; init; }
    public required bool LogJobs { get; init; }

    /// <summary>0: no limit.</summary>
    public required long MaxJobs { get; init; }

    /// <summary>0: no limit.</summary>
    public required long MaxRssMb { get; init; }

    public required TimeSpan ShutdownTimeout { get; init; }

    /// <summary>How long a cancelled handler may take to return before jobd exits (<see cref="Runtime.StuckHandlerGuard"/>).</summary>
    public required TimeSpan CancelGrace { get; init; }

    /// <summary>How the outcome sink (and the sql handler) use Postgres; applies only with <see cref="Database"/>.</summary>
    public required Jobd.Postgres.PostgresOptions Postgres { get; init; }

    /// <summary>Outbox length at which workers stop taking jobs (only with <see cref="Database"/>).</summary>
    public required long OutboxMax { get; init; }
    public required LogLevel LogLevel { get; init; }

    /// <summary>Never <see cref="Ops.LogFormat.Auto"/>: resolved by the loader.</summary>
    public required LogFormat LogFormat { get; init; }

    /// <summary>Routes (JOBD_ROUTE_*, JOBD_DEFAULT_ROUTE) and the settings of the http/exec/sql handlers.</summary>
    public required Jobd.Handlers.Routes.RouteTable Routes { get; init; }
    /// <summary>Cron schedules, their zone and catch-up window; no entries when none is configured.</summary>
    public required Jobd.Cron.CronSettings Cron { get; init; }
    /// <summary>JOBD_METRICS_ADDR; null when unset: no metrics endpoint.</summary>
    public System.Net.IPEndPoint? MetricsAddress { get; init; }

    /// <summary>JOBD_LEDGER_DIR: where the test handler `ledger` writes; null disables it.</summary>
    public string? LedgerDir { get; init; }
}
