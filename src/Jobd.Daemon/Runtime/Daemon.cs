using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Cli;
using Jobd.Config;
using Jobd.Handlers;
using Jobd.Queue;
using Jobd.Ops;
using Jobd.Outcomes;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// The supervisor of `jobd run`. Duties, in order:
/// 1. announce itself (version, worker id, redacted endpoints) and warn about unsafe settings;
/// 2. reach Redis, retrying with backoff for as long as it takes (STATUS says so), one log line per state change;
///    warn when Redis may evict queue keys (maxmemory-policy other than noeviction); after every reconnection
///    say loudly, once, if Redis lost jobd's data meanwhile (<see cref="RedisResetDetector"/>);
/// 3. report READY=1 and start the execution loop and the control ticker, each on its own connection, and the
///    watchdog, fed only while the loop is within the bound it announced, which each reconnect attempt of its
///    connection renews (a wedged loop gets killed, a Redis outage does not);
/// 4. on the first SIGTERM/SIGINT: STOPPING=1, the loop takes nothing more and finishes or puts back its job
///    (a second signal puts it back at once); then the ticker stops, connections close, exit 0.
/// A handler that ignores its cancellation past JOBD_CANCEL_GRACE, or runs out of memory, ends the process with
/// exit code 70 (<see cref="FatalExit"/>): its job is recovered elsewhere like a killed worker's.
/// It never exits because a dependency is down; only a refusal that retrying cannot fix (a wrong password or a
/// missing permission at start-up) ends it, with exit code 78.
/// </summary>
public sealed class Daemon
{
    private static readonly string[] ConfigurationRefusals = { "WRONGPASS", "NOAUTH", "NOPERM" };

    /// <summary>Longest blocking wait of an idle loop; the wait ends at once when a job arrives.</summary>
    public static readonly TimeSpan WakeWait = TimeSpan.FromSeconds(30);

    /// <summary>Control tick of an idle worker when nothing is due sooner: about 0.1 commands per second.</summary>
    public static readonly TimeSpan IdleTickInterval = TimeSpan.FromSeconds(10);

    public const int TickBatch = 1000;
    private static readonly PreparedCommand InfoMemory = PreparedCommand.Create("INFO", "memory");

    private readonly JobdConfig _config;
    private readonly Log _log;
    private readonly SystemdNotifier _notifier;
    private readonly string _workerId;

    private readonly HandlerRegistry _handlers;
    private ControlTicker? _ticker;
    private RedisResetDetector? _resetDetector;

    public Daemon(JobdConfig config, Log log, SystemdNotifier notifier, string workerId, HandlerRegistry handlers)
    {
        _config = config;
        _log = log;
        _notifier = notifier;
        _workerId = workerId;
        _handlers = handlers;
        Metrics = config.MetricsAddress is null ? null : new Jobd.Ops.Metrics.DaemonMetrics(t => handlers.TryGet(t, out _))
        {
            LogLinesDropped = () => log.DroppedLines,
        };
    }

    /// <summary>What /metrics reports; null without JOBD_METRICS_ADDR. Set its providers before RunAsync.</summary>
    public Jobd.Ops.Metrics.DaemonMetrics? Metrics { get; }

    /// <summary>How often to feed systemd's watchdog: half of WATCHDOG_USEC when it is meant for this process.</summary>
    public TimeSpan? WatchdogInterval { get; init; } = WatchdogSettings.FromEnvironment();

    /// <summary>The clock of the loop connection's reconnect backoff; tests freeze it to wedge a reconnect.</summary>
    internal TimeProvider ReconnectClock { get; init; } = TimeProvider.System;

    /// <summary>Margin beyond the grace period asked of systemd at a stop: the last settlement, the log flush, exit.</summary>
    public static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(3);

    public async Task<int> RunAsync(ShutdownSignals signals)
    {
        _log.Info($"jobd {VersionVerb.Version} starting as {_workerId}, pid {Environment.ProcessId}; redis {_config.Redis.Redacted()}; postgres {_config.Database?.Redacted() ?? "off"}");
        if (_config.Redis.SecurityWarning is { } warning) _log.Warn(warning);
        _notifier.Status("waiting for redis");
        // Bound before Redis is reached, so that a scrape can tell "jobd up, Redis down".
        await using var metricsServer = Metrics is null ? null : Jobd.Ops.Metrics.MetricsServer.TryStart(_config.MetricsAddress!, Metrics,
            new Jobd.Ops.Metrics.QueueDepthReader(_config.Redis with { ClientName = _workerId + ":metrics" }, _config.Keys, _config.Queues), _log);
        if (Metrics is not null && metricsServer is null) return ExitCodes.Config;

        // Round trips per connection, for /metrics: what "one round trip per job" and an idle worker's traffic are read from.
        var loopTrips = new RoundTripCounter();
        var controlTrips = new RoundTripCounter();
        if (Metrics is not null) Metrics.RedisRoundTrips = [("loop", loopTrips), ("control", controlTrips)];
        var clock = TimeProvider.System;
        var state = new LoopState(clock);
        // The loop waits for work on its own thread (BlockOnCallingThread): a wake then costs one thread wake-up, not
        // three. That thread is a pool thread held while idle, so the pool gets one more than it would keep.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(workers + 1, io);
        await using var redis = new RedisClient(_config.Redis with { ClientName = _workerId, RoundTrips = loopTrips, BlockOnCallingThread = true },
            OnRedisState, ReconnectClock)
        {
            Reconnecting = state.Reconnecting,
            RefusalEndsFirstConnect = true,
            DownCauseChanged = cause => _log.Warn("redis still down, now refusing jobd: " + cause + "; retrying with backoff"),
        };
        try
        {
            await redis.PingAsync(signals.Graceful).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Stop(signals, "before Redis was reached");
        }
        catch (RedisServerException e) when (Array.IndexOf(ConfigurationRefusals, e.Prefix) >= 0)
        {
            _log.Error($"redis refused jobd: {e.Message}; check the credentials in REDIS_URL and the ACL user's permissions");
            return ExitCodes.Config;
        }

        await WarnIfEvictingAsync(redis, signals.Graceful).ConfigureAwait(false);
        try
        {
            if (!await WorkerScripts.TryLoadAsync(redis, _log, signals.Graceful).ConfigureAwait(false)) return ExitCodes.Config;
        }
        catch (OperationCanceledException)
        {
            return Stop(signals, "before the scripts were loaded");
        }

        var limits = new WorkerLimits(LeaseMs: (long)(3 * _config.Heartbeat.TotalMilliseconds),
            DoneTtlMs: (long)_config.DoneTtl.TotalMilliseconds, DeadTtlMs: (long)_config.DeadTtl.TotalMilliseconds,
            DeadCap: _config.DeadMax, MaxArgsBytes: _config.MaxJobBytes, MaxRecoveries: _config.MaxRecoveries,
            TickBatch: TickBatch, WorkerTtlMs: (long)_config.WorkerTtl.TotalMilliseconds,
            OutboxCap: _config.Database is null ? 0 : _config.OutboxMax);
        var protocol = new WorkerProtocol(_config.Keys, _workerId, _config.Queues, limits, WakeWait);
        // The loop's connection reports Redis going down and up; the control connection, to the same server,
        // would only say it twice.
        var detector = new RedisResetDetector(_config.Keys, _log);
        _resetDetector = detector;
        await using var control = new RedisClient(_config.Redis with { ClientName = _workerId, RoundTrips = controlTrips },
            (s, _) => { if (s == RedisConnectionState.Up) detector.Reconnected(); });
        var recycle = new RecycleGuard(_config.MaxJobs, _config.MaxRssMb << 20);
        await using var sink = _config.Database is { } database ? new SinkRunner(_config, database, _workerId, _log) : null;
        if (sink is not null && Metrics is not null)
        {
            var status = sink.Sink.Status;
            Metrics.OutboxLength = () => Math.Max(0, status.Outbox);
            Metrics.PostgresUp = () => status.PostgresUp;
        }
        var cron = _config.Cron.Entries.Count == 0 ? null : new CronFirer(control, _config.Keys, _config.Cron, _log, _config.LogJobs, clock);
        var fatal = new FatalExit(_log);
        var queueKeys = new QueueKeyHealth(_log, _config.Keys, _config.Queues);
        var ticker = new ControlTicker(control, protocol, state, _log, _config.Heartbeat, IdleTickInterval, TickBatch, clock, recycle, cron)
        {
            QueueKeys = queueKeys,
            OutboxSeen = sink is null ? null : length => { sink.Sink.Status.SeenOutbox(length); if (length > 0) sink.Sink.Nudge(); },
            Guard = new StuckHandlerGuard(state, _config.CancelGrace, fatal),
            ResetDetector = detector,
        };
        _ticker = ticker;
        var runner = new JobRunner(_handlers, _config.JobTimeout, _config.ShutdownTimeout) { State = state, Fatal = fatal };
        var loop = new ExecutionLoop(redis, protocol, runner,
            state, ticker, _log, _notifier, _workerId, _config.LogJobs, recycle, queueKeys)
        {
            OutcomeRecorded = sink is null ? null : sink.Sink.Nudge,
            Status = _notifier.Enabled ? new LoopStatus(_notifier, state, clock) : null,
            Metrics = Metrics?.Jobs,
        };

        if (await ticker.ProbeAsync(redis, IsRefusal, signals.Graceful).ConfigureAwait(false) is { } refused)
        {
            _log.Error($"redis refused jobd's control tick: {refused.Message}; the ACL user needs the commands of PROTOCOL.md on the keys {_config.Keys.Tag}:*");
            return ExitCodes.Config;
        }
        _notifier.Ready();
        _log.Info($"ready: queues {string.Join(", ", _config.Queues)} (in priority order); handlers {string.Join(", ", _handlers.Types)}");
        using var stopTicker = new CancellationTokenSource();
        var tickerTask = ticker.RunAsync(stopTicker.Token);
        sink?.Start();
        var watchdogTask = FeedWatchdogAsync(state, redis, stopTicker.Token);
        using var onStop = signals.Graceful.Register(() =>
        {
            _notifier.Stopping();
            // systemd's TimeoutStopSec may be shorter than the grace period the running job is given.
            if (state.Job is not null) _notifier.ExtendTimeout(_config.ShutdownTimeout + ExecutionLoop.SettleMargin + StopMargin);
            if (state.Job is { } j) _log.Info($"stopping on {signals.Received}: taking no more jobs, job {j.Id} has {_config.ShutdownTimeout.TotalSeconds:0.#}s to finish");
            else _log.Info($"stopping on {signals.Received}: taking no more jobs");
        });
        await loop.RunAsync(signals.Graceful, signals.Immediate, _config.ShutdownTimeout).ConfigureAwait(false);
        stopTicker.Cancel();
        await tickerTask.ConfigureAwait(false);
        if (sink is not null) await sink.StopAsync().ConfigureAwait(false);
        await watchdogTask.ConfigureAwait(false);
        loop.Status?.Dispose();
        if (recycle.Reason is { } reason && !signals.Graceful.IsCancellationRequested)
        {
            _notifier.Stopping();
            _log.Info($"recycling: {reason}; exiting with code {ExitCodes.Recycle} for a fresh process");
            return ExitCodes.Recycle;
        }
        _log.Info($"stopped after {state.JobsDone} jobs");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// A refusal no retry can fix: NOPERM, or a command or key inside a script the ACL user may not use (Redis 7
    /// answers those with ERR "The user executing the script can't run this command…" / "…can't access…").
    /// </summary>
    private static bool IsRefusal(RedisServerException e) =>
        Array.IndexOf(ConfigurationRefusals, e.Prefix) >= 0
        || e.Is("ERR") && e.ServerMessage.Contains("The user executing the script can't", StringComparison.Ordinal);

    /// <summary>Any policy but noeviction lets Redis delete queue keys under memory pressure, silently.</summary>
    private async Task WarnIfEvictingAsync(RedisClient redis, CancellationToken cancel)
    {
        try
        {
            var info = (await redis.ExecuteAsync(InfoMemory, cancel).ConfigureAwait(false)).ThrowIfError().AsString() ?? "";
            int at = info.IndexOf("maxmemory_policy:", StringComparison.Ordinal);
            if (at < 0) return;
            int end = info.IndexOfAny(new[] { '\r', '\n' }, at);
            var policy = info[(at + 17)..(end < 0 ? info.Length : end)];
            if (policy != "noeviction")
                _log.Warn($"redis maxmemory-policy is {policy}: under memory pressure Redis may delete queued jobs; set it to noeviction");
        }
        catch (RedisServerException e)
        {
            _log.Debug($"cannot read maxmemory-policy (INFO refused: {e.Prefix}); make sure it is noeviction");
        }
        catch (Exception e) when (e is OperationCanceledException or RedisConnectionException)
        {
            // Stopped, or Redis went away, during this best-effort check: the loop handles both next.
        }
    }

    /// <summary>
    /// Pings while the loop is within its announced bound. A Redis outage is a dependency being down, not a
    /// wedged loop, and must not get jobd killed and restarted (which would not bring Redis back either): each
    /// reconnect attempt of the loop's connection renews the bound by that attempt's own limit plus its backoff
    /// (LoopState.Reconnecting). Attempts happen only inside the loop's own calls, so a handler stuck while Redis
    /// is down, or a reconnect that stops trying, still starves the watchdog.
    /// </summary>
    private async Task FeedWatchdogAsync(LoopState state, RedisClient loopRedis, CancellationToken stop)
    {
        var interval = WatchdogInterval;
        if (interval is null) return;
        bool starving = false;
        try
        {
            while (true)
            {
                if (state.IsHealthy(interval.Value))
                {
                    _notifier.Watchdog();
                    starving = false;
                }
                else if (!starving)
                {
                    starving = true;
                    var doing = state.Job is { } j ? $" (job {j.Id} {j.Type})"
                        : loopRedis.State == RedisConnectionState.Down ? " (reconnecting to redis, no attempt within its bound)" : "";
                    _log.Error($"the execution loop is past its deadline{doing}; no longer feeding the systemd watchdog");
                }
                await Task.Delay(interval.Value, TimeProvider.System, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private int Stop(ShutdownSignals signals, string state)
    {
        _notifier.Stopping();
        _log.Info($"stopping on {signals.Received ?? "request"} ({state})");
        return ExitCodes.Ok;
    }

    private void OnRedisState(RedisConnectionState state, string reason)
    {
        Metrics?.SetRedisUp(state == RedisConnectionState.Up);
        if (state == RedisConnectionState.Up)
        {
            _log.Info($"redis up: {reason}");
            // The loop's connection is usually the first to see Redis again: have the marker checked soon.
            _resetDetector?.Reconnected();
            _ticker?.TickSoon();
            return;
        }
        _log.Warn($"redis down: {reason}; retrying with backoff");
        _notifier.Status("waiting for redis: " + reason);
    }
}
