using System.Threading;
using System.Threading.Tasks;
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

    public static async Task LoadAsync(RedisClient redis, CancellationToken cancel)
    {
        using var batch = new RedisBatch();
        foreach (var s in All) batch.Add(s.Load);
        var replies = new RedisReply[All.Length];
        await redis.ExecutePipelineAsync(batch, replies, cancel).ConfigureAwait(false);
        foreach (var r in replies) r.ThrowIfError();
    }
}
