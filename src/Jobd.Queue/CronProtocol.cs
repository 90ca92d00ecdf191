using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Queue;

public enum CronFireStatus
{
    /// <summary>The fire time is ahead of Redis' clock by more than allowed: nothing written.</summary>
    Early = -1,

    /// <summary>This fire time, or a later one, of the schedule was enqueued already (by any replica).</summary>
    AlreadyFired = 0,

    /// <summary>This call enqueued the fire's job.</summary>
    Enqueued = 1,
}

/// <summary>The reply of cron_fire.lua: what happened, Redis' clock, and the schedule's last enqueued fire time.</summary>
public readonly record struct CronFireResult(CronFireStatus Status, long RedisNowMs, long LastFireMs);

/// <summary>
/// The cron side of the protocol (PROTOCOL.md, "Cron"): cron_fire.lua, which arbitrates between replicas so that
/// each fire time becomes one job, and the read of every schedule's last fire for `jobd cron list`.
/// </summary>
public static class CronProtocol
{
    public static void AppendFire(RedisBatch batch, QueueKeys keys, string name, long fireMs, string jobId, string type,
        string queue, string argsJson, long earlyMs)
    {
        batch.EvalSha(QueueScripts.CronFire, 6, 7)
            .Arg(keys.Cron).Arg(keys.Job(jobId)).Arg(keys.Queue(queue)).Arg(keys.Scheduled).Arg(keys.Wake).Arg(keys.QueueSet)
            .Arg(name).Arg(fireMs).Arg(jobId).Arg(type).Arg(queue).Arg(argsJson).Arg(earlyMs);
    }

    public static CronFireResult ParseFire(RedisReply reply)
    {
        reply.ThrowIfError();
        if (reply.Items is not { Length: 3 } items)
            throw new RedisProtocolException("cron_fire script: unexpected reply " + reply);
        return new CronFireResult((CronFireStatus)items[0].Integer, items[1].Integer, items[2].Integer);
    }

    /// <summary>Every schedule's last enqueued fire time (Unix ms), as recorded in {P}:cron.</summary>
    public static async Task<Dictionary<string, long>> ReadLastFiresAsync(RedisClient redis, QueueKeys keys, CancellationToken cancel = default)
    {
        using var batch = new RedisBatch();
        batch.Begin(2).Arg("HGETALL").Arg(keys.Cron);
        var items = (await redis.ExecuteAsync(batch, cancel).ConfigureAwait(false)).ThrowIfError().Items ?? Array.Empty<RedisReply>();
        var last = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < items.Length; i += 2)
        {
            if (long.TryParse(items[i + 1].AsString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                last[items[i].AsString() ?? ""] = ms;
        }
        return last;
    }
}
