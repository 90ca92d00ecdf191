using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Cli;
using Jobd.Config;
using Jobd.Ops;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// The supervisor of `jobd run`. Duties, in order:
/// 1. announce itself (version, worker id, redacted endpoints) and warn about unsafe settings;
/// 2. reach Redis, retrying with backoff for as long as it takes (STATUS says so), one log line per state change;
/// 3. report READY=1, then keep the systemd watchdog fed while it waits for SIGTERM/SIGINT;
/// 4. on the signal: STOPPING=1, close connections, exit 0.
/// It never exits because a dependency is down; only a refusal that retrying cannot fix (a wrong password or a
/// missing permission at start-up) ends it, with exit code 78.
/// </summary>
public sealed class Daemon
{
    private static readonly string[] ConfigurationRefusals = { "WRONGPASS", "NOAUTH", "NOPERM" };

    private readonly JobdConfig _config;
    private readonly Log _log;
    private readonly SystemdNotifier _notifier;
    private readonly string _workerId;

    public Daemon(JobdConfig config, Log log, SystemdNotifier notifier, string workerId)
    {
        _config = config;
        _log = log;
        _notifier = notifier;
        _workerId = workerId;
    }

    public async Task<int> RunAsync(ShutdownSignals signals)
    {
        _log.Info($"jobd {VersionVerb.Version} starting as {_workerId}, pid {Environment.ProcessId}; redis {_config.Redis.Redacted()}; postgres {_config.Database?.Redacted() ?? "off"}");
        if (_config.Redis.SecurityWarning is { } warning) _log.Warn(warning);
        _notifier.Status("waiting for redis");

        await using var redis = new RedisClient(_config.Redis with { ClientName = _workerId }, OnRedisState);
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

        _notifier.Ready();
        _notifier.Status("idle, ready for jobs");
        _log.Info("ready");
        await IdleUntilSignalAsync(signals.Graceful).ConfigureAwait(false);
        return Stop(signals, "idle");
    }

    private async Task IdleUntilSignalAsync(CancellationToken stop)
    {
        var interval = WatchdogSettings.FromEnvironment();
        try
        {
            if (interval is null)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, stop).ConfigureAwait(false);
                return;
            }
            while (true)
            {
                _notifier.Watchdog();
                await Task.Delay(interval.Value, stop).ConfigureAwait(false);
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
        if (state == RedisConnectionState.Up)
        {
            _log.Info("redis up: " + reason);
            return;
        }
        _log.Warn("redis down: " + reason + "; retrying with backoff");
        _notifier.Status("waiting for redis: " + reason);
    }
}
