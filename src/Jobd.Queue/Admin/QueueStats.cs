using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Queue.Admin;

/// <summary>A live worker: its id, last heartbeat (Redis ms) and the job it holds, if any.</summary>
/// <summary>Sink: the state its result sink last reported ("up", "down: ..."), null without one.</summary>
public sealed record WorkerInfo(string Id, long HeartbeatMs, string? Job, string? Sink = null);

/// <summary>A snapshot of one application's queues, read in two pipelined round trips.</summary>
public sealed class QueueStats
{
    /// <summary>Redis' clock when the snapshot was taken, Unix ms.</summary>
    public long NowMs { get; init; }
    /// <summary>The depth of a queue whose key is not a list (WRONGTYPE): the worker skips that queue.</summary>
    public const long NotAList = -1;

    /// <summary>Ready jobs per queue, in name order; <see cref="NotAList"/> for a key of another type.</summary>
    public required List<KeyValuePair<string, long>> Ready { get; init; }
    public long Scheduled { get; init; }
    public long Running { get; init; }
    public long Dead { get; init; }
    /// <summary>The {P}:stats counters: done, dead, retried, recovered (0 when never counted).</summary>
    public long DoneCount { get; init; }
    public long DeadCount { get; init; }
    public long RetriedCount { get; init; }
    public long RecoveredCount { get; init; }
    /// <summary>Workers of {P}:workers whose hash has not expired, oldest heartbeat first.</summary>
    public required List<WorkerInfo> Workers { get; init; }

    /// <summary>Outcomes in the outbox, not yet committed to Postgres (0 without DATABASE_URL).</summary>
    public long Outbox { get; init; }

    /// <summary>Reads the snapshot: the queues of {P}:queues plus <paramref name="configuredQueues"/>.</summary>
    public static async ValueTask<QueueStats> ReadAsync(RedisClient redis, QueueKeys keys, IReadOnlyList<string> configuredQueues,
        CancellationToken cancellationToken = default)
    {
        using var batch = new RedisBatch();
        batch.Begin(2).Arg("SMEMBERS").Arg(keys.QueueSet);
        batch.Begin(2).Arg("ZCARD").Arg(keys.Scheduled);
        batch.Begin(2).Arg("ZCARD").Arg(keys.Leases);
        batch.Begin(2).Arg("ZCARD").Arg(keys.Dead);
        batch.Begin(2).Arg("HGETALL").Arg(keys.Stats);
        batch.Begin(5).Arg("ZRANGE").Arg(keys.Workers).Arg(0).Arg(-1).Arg("WITHSCORES");
        batch.Begin(1).Arg("TIME");
        batch.Begin(2).Arg("XLEN").Arg(keys.Outbox);
        var first = new RedisReply[batch.Count];
        await redis.ExecutePipelineAsync(batch, first, cancellationToken).ConfigureAwait(false);
        foreach (var r in first) r.ThrowIfError();

        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var q in configuredQueues) names.Add(q);
        foreach (var q in first[0].Items!)
            if (q.AsString() is { } name && Names.IsQueue(name)) names.Add(name);
        long doneCount = 0, deadCount = 0, retriedCount = 0, recoveredCount = 0;
        var counters = first[4].Items!;
        for (int i = 0; i + 1 < counters.Length; i += 2)
        {
            long v = DeadJobs.ParseLong(counters[i + 1].AsString()) ?? 0;
            switch (counters[i].AsString())
            {
                case "done": doneCount = v; break;
                case "dead": deadCount = v; break;
                case "retried": retriedCount = v; break;
                case "recovered": recoveredCount = v; break;
            }
        }
        var workerEntries = first[5].Items!;
        var time = first[6].Items!;
        long now = (DeadJobs.ParseLong(time[0].AsString()) ?? 0) * 1000 + (DeadJobs.ParseLong(time[1].AsString()) ?? 0) / 1000;

        batch.Clear();
        foreach (var q in names) batch.Begin(2).Arg("LLEN").Arg(keys.Queue(q));
        for (int i = 0; i + 1 < workerEntries.Length; i += 2)
            batch.Begin(5).Arg("HMGET").Arg(keys.Worker(workerEntries[i].AsString()!)).Arg("job").Arg("heartbeat").Arg("sink");
        var second = new RedisReply[batch.Count];
        if (batch.Count > 0) await redis.ExecutePipelineAsync(batch, second, cancellationToken).ConfigureAwait(false);

        var ready = new List<KeyValuePair<string, long>>(names.Count);
        int n = 0;
        foreach (var q in names)
        {
            var depth = second[n++];
            // A queue key someone made into another type is shown as such; it must not hide every other number.
            ready.Add(new(q, depth.Error is { } e && e.Is("WRONGTYPE") ? NotAList : depth.ThrowIfError().Integer));
        }
        var workers = new List<WorkerInfo>(workerEntries.Length / 2);
        for (int i = 0; i + 1 < workerEntries.Length; i += 2)
        {
            var fields = second[n++].ThrowIfError().Items!;
            if (fields[1].IsNil) continue; // its hash expired: the worker fell silent, and no tick has pruned it yet
            var job = fields[0].AsString();
            workers.Add(new WorkerInfo(workerEntries[i].AsString()!, (long)(ParseScore(workerEntries[i + 1].AsString())),
                string.IsNullOrEmpty(job) ? null : job, fields[2].AsString()));
        }
        return new QueueStats
        {
            NowMs = now,
            Ready = ready,
            Scheduled = first[1].Integer,
            Running = first[2].Integer,
            Dead = first[3].Integer,
            DoneCount = doneCount,
            DeadCount = deadCount,
            RetriedCount = retriedCount,
            RecoveredCount = recoveredCount,
            Workers = workers,
            Outbox = first[7].Integer,
        };
    }

    private static double ParseScore(string? s) =>
        double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;
}
