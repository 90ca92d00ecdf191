using System;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Resp;
using Jobd.Runtime;

namespace Jobd.Cli;

/// <summary>
/// `jobd health`, what a container's HEALTHCHECK runs: exit 0 when Redis answers and a worker of this host has a
/// fresh heartbeat, 1 otherwise (every unhealthy case, Redis unreachable included: HEALTHCHECK knows only 0 and 1).
/// "A worker of this host": its id ("jobd:HOST:PID:RANDOM") carries this host's name and names a process alive
/// here (in a container, the pid 1 jobd of the same namespace). "Fresh": younger than
/// <see cref="Daemon.IdleTickInterval"/> plus three heartbeats, because an idle worker only ticks (and so
/// beats) once per idle interval. One line on stdout either way, within <see cref="Budget"/> in all (connect and
/// query together), well inside the container HEALTHCHECK's --timeout.
/// </summary>
public static class HealthVerb
{
    /// <summary>
    /// The whole check, connect and query, ends within this (or JOBD_REDIS_CONNECT_TIMEOUT if shorter): a health
    /// probe that hangs is worse than one that says "unhealthy", and Dockerfile.aot's HEALTHCHECK allows 10 s.
    /// </summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(CommandLine cmd, JobdConfig config, TextWriter stdout)
    {
        var limit = Daemon.IdleTickInterval + 3 * config.Heartbeat;
        var budget = config.Redis.ConnectTimeout < Budget ? config.Redis.ConnectTimeout : Budget;
        using var deadline = new System.Threading.CancellationTokenSource(budget);
        try
        {
            // The connect gets the budget as its timeout; the query whatever the connect left of it.
            await using var redis = await OneShotRedis.ConnectAsync(config.Redis with { ConnectTimeout = budget, CommandTimeout = budget }).ConfigureAwait(false);
            using var batch = new RedisBatch();
            batch.Begin(5).Arg("ZRANGE").Arg(config.Keys.Workers).Arg(0).Arg(-1).Arg("WITHSCORES");
            batch.Begin(1).Arg("TIME");
            var replies = new RedisReply[2];
            await redis.ExecutePipelineAsync(batch, replies, deadline.Token).ConfigureAwait(false);
            var entries = replies[0].ThrowIfError().Items!;
            var time = replies[1].ThrowIfError().Items!;
            long now = long.Parse(time[0].AsString()!, CultureInfo.InvariantCulture) * 1000 + long.Parse(time[1].AsString()!, CultureInfo.InvariantCulture) / 1000;
            var line = Judge(entries, now, limit, HostPrefix(), out bool healthy);
            stdout.WriteLine(line);
            return healthy ? ExitCodes.Ok : Unhealthy;
        }
        catch (Exception e) when (e is RedisConnectionException or OperationCanceledException)
        {
            stdout.WriteLine("unhealthy: " + Jobd.Ops.TextEscape.Escape(e is OperationCanceledException ? "redis did not answer in time" : e.Message));
            return Unhealthy;
        }
        catch (RedisServerException e)
        {
            stdout.WriteLine("unhealthy: redis refused: " + Jobd.Ops.TextEscape.Escape(e.Message));
            return Unhealthy;
        }
    }

    public const int Unhealthy = 1;

    /// <summary>"jobd:HOST:": the start of every worker id of this host, with the host name as workers write it.</summary>
    public static string HostPrefix()
    {
        var sample = WorkerIdentity.Create(Environment.MachineName, 0, Random.Shared);
        return sample[..(sample.IndexOf(':', 5) + 1)];
    }

    private static string Judge(RedisReply[] entries, long nowMs, TimeSpan limit, string prefix, out bool healthy)
    {
        healthy = false;
        string? best = null;
        long bestBeat = long.MinValue;
        int ofHost = 0;
        for (int i = 0; i + 1 < entries.Length; i += 2)
        {
            var id = entries[i].AsString();
            if (id is null || !id.StartsWith(prefix, StringComparison.Ordinal)) continue;
            ofHost++;
            if (!IsLocalProcess(id, prefix.Length)) continue;
            long beat = (long)double.Parse(entries[i + 1].AsString() ?? "0", NumberStyles.Float, CultureInfo.InvariantCulture);
            if (beat > bestBeat)
            {
                bestBeat = beat;
                best = id;
            }
        }
        string host = prefix[5..^1];
        if (best is null)
        {
            return ofHost == 0
                ? "unhealthy: no worker of host " + host + " is registered"
                : "unhealthy: no live jobd process of this host is registered (" + ofHost.ToString(CultureInfo.InvariantCulture)
                  + (ofHost == 1 ? " entry" : " entries") + " left by processes that are gone)";
        }
        var age = TimeSpan.FromMilliseconds(Math.Max(0, nowMs - bestBeat));
        var ageText = age.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s ago";
        if (age > limit)
            return "unhealthy: worker " + best + " heartbeat " + ageText + " (limit " + limit.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s)";
        healthy = true;
        return "healthy: worker " + best + " heartbeat " + ageText;
    }

    /// <summary>The id's pid names a process alive in this pid namespace (/proc/PID exists).</summary>
    private static bool IsLocalProcess(string id, int pidStart)
    {
        int end = id.IndexOf(':', pidStart);
        if (end < 0 || !int.TryParse(id.AsSpan(pidStart, end - pidStart), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return false;
        return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
    }
}
