using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Jobd.Resp;

namespace Jobd.Queue;

/// <summary>
/// Retention, leases and limits a worker passes to its scripts, in milliseconds. OutboxCap: 0 when outcomes are
/// not recorded (no DATABASE_URL); otherwise the outbox length at which the worker stops taking jobs.
/// </summary>
public sealed record WorkerLimits(long LeaseMs, long DoneTtlMs, long DeadTtlMs, long DeadCap, long MaxArgsBytes,
    int MaxRecoveries, int TickBatch, long WorkerTtlMs, long OutboxCap = 0);

/// <summary>
/// The worker's side of the protocol: encodes take, tick, reclaim and the blocking wake wait for one worker,
/// with every key and fixed argument encoded once at start-up, and parses their replies. Holds no connection;
/// the execution loop and the control tick each append to their own batch.
/// </summary>
public sealed class WorkerProtocol
{
    private readonly QueueKeys _keys;
    private readonly byte[] _workerKey;
    private readonly byte[][] _queueKeys;
    private readonly byte[] _workerId;
    private readonly WorkerLimits _limits;

    public WorkerProtocol(QueueKeys keys, string workerId, IReadOnlyList<string> queues, WorkerLimits limits, TimeSpan wakeWait)
    {
        _keys = keys;
        _limits = limits;
        _workerId = Encoding.UTF8.GetBytes(workerId);
        _workerKey = keys.Worker(workerId);
        _queueKeys = new byte[queues.Count][];
        for (int i = 0; i < queues.Count; i++) _queueKeys[i] = keys.Queue(queues[i]);
        WakeWait = wakeWait;
        var blpop = new byte[queues.Count + 3][];
        blpop[0] = "BLPOP"u8.ToArray();
        for (int i = 0; i < queues.Count; i++) blpop[i + 1] = keys.WakeList(queues[i]);
        blpop[^2] = keys.Wake;
        blpop[^1] = Encoding.ASCII.GetBytes(((long)wakeWait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        WaitForWake = PreparedCommand.Create(blpop);
    }

    public TimeSpan WakeWait { get; }

    /// <summary>
    /// BLPOP {P}:wake:&lt;queue&gt;… {P}:wake SECONDS, encoded once: the idle worker's only command besides its tick.
    /// A ready job wakes only a worker of its queue; a new earliest scheduled job (on {P}:wake) wakes any, to tick.
    /// </summary>
    public PreparedCommand WaitForWake { get; }

    public void AppendTake(RedisBatch batch, in Settlement settle, string newToken, bool takeNext)
    {
        int queues = takeNext ? _queueKeys.Length : 0;
        batch.EvalSha(QueueScripts.Take, 6 + queues, 14)
            .Arg(_keys.Leases).Arg(_workerKey).Arg(_keys.Scheduled).Arg(_keys.Dead).Arg(_keys.Stats).Arg(_keys.Wake);
        for (int i = 0; i < queues; i++) batch.Arg(_queueKeys[i]);
        batch.Arg(_workerId).Arg(_limits.LeaseMs).Arg(newToken)
            .Arg(settle.Kind switch
            {
                SettleKind.Done => "done"u8,
                SettleKind.Retry => "retry"u8,
                SettleKind.Dead => "dead"u8,
                SettleKind.Requeue => "requeue"u8,
                _ => ""u8,
            })
            .Arg(settle.JobId).Arg(settle.Token).Arg(settle.Text).Arg(settle.RetryDelayMs)
            .Arg(_limits.DoneTtlMs).Arg(_limits.DeadTtlMs).Arg(_limits.DeadCap).Arg(_limits.MaxArgsBytes)
            .Arg(_keys.KeyPrefix).Arg(_limits.OutboxCap);
    }

    /// <summary>OutboxFull: nothing was taken because the outbox is at its cap (the settlement still applied).</summary>
    public static TakeResult ParseTake(RedisReply reply)
    {
        reply.ThrowIfError();
        var items = reply.Items;
        if (items is not { Length: 9 } || items[1].Items is not { } job)
            throw new RedisProtocolException("take script: unexpected reply " + reply);
        var settled = (SettleResult)items[0].Integer;
        var result = new TakeResult(settled, null, items[2].Integer == 1)
        {
            Refused = Strings(items[3]), BadQueues = Strings(items[4]), Visited = (int)items[5].Integer, More = items[6].Integer == 1,
            StaleWakes = items[7].Integer > 0, Skipped = Strings(items[8]),
        };
        if (job.Length == 0) return result;
        if (job.Length != 10) throw new RedisProtocolException("take script: a job of " + job.Length + " fields");
        var args = job[3].Bytes ?? Array.Empty<byte>();
        return result with
        {
            Job = new RunningJob
            {
                Id = job[0].AsString()!,
                Type = job[1].AsString()!,
                Queue = job[2].AsString()!,
                ArgsJson = job[3].AsString()!,
                Attempt = (int)job[4].Integer,
                MaxAttempts = (int)Long(job[5]),
                TimeoutMs = job[6].Kind == RedisReplyKind.Integer ? job[6].Integer : null,
                Recoveries = (int)Long(job[7]),
                EnqueuedAtMs = Long(job[8]),
                Token = job[9].AsString()!,
                // The script checked the hash's shape; the JSON itself is checked here, on the bytes as Redis holds them.
                ArgsProblem = JsonArgs.Problem(args),
            },
        };
    }

    /// <param name="recover">False: recover no expired lease this time (see tick.lua, ARGV[12]).</param>
    public void AppendTick(RedisBatch batch, string? jobId, string? token, bool recover = true)
    {
        batch.EvalSha(QueueScripts.Tick, 7, 12)
            .Arg(_keys.Leases).Arg(_keys.Scheduled).Arg(_keys.Workers).Arg(_workerKey).Arg(_keys.Dead).Arg(_keys.Stats).Arg(_keys.Wake)
            .Arg(_workerId).Arg(_limits.LeaseMs).Arg(jobId ?? "").Arg(token ?? "").Arg(_limits.TickBatch)
            .Arg(_limits.MaxRecoveries).Arg(_limits.DeadTtlMs).Arg(_limits.DeadCap)
            .Arg(_keys.KeyPrefix).Arg(_limits.WorkerTtlMs).Arg(_limits.OutboxCap > 0 ? 1 : 0).Arg(recover ? 1 : 0);
    }

    public static TickResult ParseTick(RedisReply reply)
    {
        reply.ThrowIfError();
        var items = reply.Items;
        if (items is not { Length: 9 }) throw new RedisProtocolException("tick script: unexpected reply " + reply);
        return new TickResult((int)items[0].Integer, (int)items[1].Integer, items[2].Integer, Strings(items[3]), Strings(items[4]),
            items[5].Integer) { BadQueues = Strings(items[6]), Refused = Strings(items[7]), MoreDue = items[8].Integer };
    }

    public void AppendReclaim(RedisBatch batch, string? runningToken)
    {
        batch.EvalSha(QueueScripts.Reclaim, 3, 2).Arg(_keys.Leases).Arg(_workerKey).Arg(_keys.Wake)
            .Arg(_keys.KeyPrefix).Arg(runningToken ?? "");
    }

    /// <summary>The scripts return numbers as integers (Lua numbers); text is read too.</summary>
    private static long Long(RedisReply r) => r.Kind == RedisReplyKind.Integer
        ? r.Integer
        : long.TryParse(r.AsString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new RedisProtocolException("take script: not a number: " + r);

    private static string[] Strings(RedisReply r)
    {
        var items = r.Items ?? Array.Empty<RedisReply>();
        if (items.Length == 0) return Array.Empty<string>();
        var s = new string[items.Length];
        for (int i = 0; i < items.Length; i++) s[i] = items[i].AsString() ?? "";
        return s;
    }
}
