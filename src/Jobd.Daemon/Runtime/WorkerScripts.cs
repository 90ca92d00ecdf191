using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// Loads the worker's scripts (take, tick, reclaim) before READY=1, so that "ready" means Redis has them and
/// this user may run them: a missing permission is found at start-up, not at the first job. Later losses of
/// the script cache (a restart, a failover) are still handled by the NOSCRIPT fallback of every call.
/// </summary>
public static class WorkerScripts
{
    private static readonly RedisScript[] All = { QueueScripts.Reclaim, QueueScripts.Take, QueueScripts.Tick };
    private static readonly string[] Refusals = { "WRONGPASS", "NOAUTH", "NOPERM" };

    /// <summary>
    /// False when Redis refuses this user the scripts (logged: a configuration error, exit 78). Any other
    /// failure is logged as a warning and left to the fallback on first use.
    /// </summary>
    public static async Task<bool> TryLoadAsync(RedisClient redis, Log log, CancellationToken cancel)
    {
        try
        {
            await LoadAsync(redis, cancel).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (Array.IndexOf(Refusals, e.Prefix) >= 0)
        {
            log.Error($"redis refused to load jobd's scripts: {e.Message}; the ACL user needs SCRIPT LOAD and EVALSHA");
            return false;
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
            log.Warn("could not load the scripts before starting (" + e.Message + "); they load on first use");
        }
        return true;
    }

    public static async Task LoadAsync(RedisClient redis, CancellationToken cancel)
    {
        using var batch = new RedisBatch();
        foreach (var s in All) batch.Add(s.Load);
        var replies = new RedisReply[All.Length];
        await redis.ExecutePipelineAsync(batch, replies, cancel).ConfigureAwait(false);
        foreach (var r in replies) r.ThrowIfError();
    }
}
