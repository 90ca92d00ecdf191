using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Queue;

/// <summary>
/// The .NET producer client: validates jobs and enqueues them with the protocol's enqueue script, one call per
/// job, or many in one pipelined round trip. It never retries by itself: after a connection error the caller
/// cannot know whether the job was created, and a retry with the same <see cref="EnqueueRequest.Id"/> is safe
/// (the script refuses an existing id). With <see cref="WaitForReplicas"/> each call is confirmed by WAIT.
/// Not thread-safe: one caller at a time, like its <see cref="RedisClient"/>.
/// </summary>
public sealed class JobProducer
{
    private const int ScriptKeys = 6, ScriptArgs = 9;
    private readonly RedisClient _redis;
    private readonly QueueKeys _keys;
    private readonly long _maxJobBytes;
    private readonly TimeProvider _clock;
    private readonly RedisBatch _batch = new();

    public JobProducer(RedisClient redis, QueueKeys keys, long maxJobBytes = EnqueueCheck.MaxJobBytesDefault, TimeProvider? clock = null)
    {
        _redis = redis;
        _keys = keys;
        _maxJobBytes = maxJobBytes;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>
    /// When set, every enqueue call waits (WAIT, one more round trip on the same connection) until this many
    /// replicas have its jobs, and throws <see cref="NotReplicatedException"/> when fewer did in time.
    /// </summary>
    public ReplicaWait? WaitForReplicas { get; init; }

    /// <exception cref="JobRejectedException">The job is malformed; nothing was sent.</exception>
    /// <exception cref="RedisConnectionException">Redis could not be reached; the job may or may not exist.</exception>
    /// <exception cref="NotReplicatedException">With <see cref="WaitForReplicas"/>: the job exists, but fewer replicas have it.</exception>
    public async ValueTask<EnqueueResult> EnqueueAsync(EnqueueRequest request, CancellationToken cancellationToken = default)
    {
        var id = Prepare(request);
        _batch.Clear();
        Append(request, id);
        var reply = await _redis.ExecuteAsync(_batch, cancellationToken).ConfigureAwait(false);
        var result = ToResult(reply);
        if (WaitForReplicas is { } wait) await ConfirmAsync(wait, new[] { result }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Enqueues every request in one round trip; all are validated before anything is sent. A job Redis refuses
    /// (an existing id, memory full) comes back with <see cref="EnqueueResult.Refusal"/> set: the others in the
    /// pipeline ran regardless, so the results say exactly which jobs exist.
    /// </summary>
    public async ValueTask<EnqueueResult[]> EnqueueManyAsync(IReadOnlyList<EnqueueRequest> requests, CancellationToken cancellationToken = default)
    {
        var ids = new string[requests.Count];
        for (int i = 0; i < requests.Count; i++) ids[i] = Prepare(requests[i]);
        _batch.Clear();
        for (int i = 0; i < requests.Count; i++) Append(requests[i], ids[i]);
        var replies = new RedisReply[requests.Count];
        await _redis.ExecutePipelineAsync(_batch, replies, cancellationToken).ConfigureAwait(false);
        var results = new EnqueueResult[replies.Length];
        for (int i = 0; i < replies.Length; i++)
            results[i] = replies[i].Error is { } refusal ? new EnqueueResult(ids[i], false, "refused", refusal) : ToResult(replies[i]);
        if (WaitForReplicas is { } wait) await ConfirmAsync(wait, results, cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// WAIT after the enqueue, never in its pipeline: a NOSCRIPT fallback re-sends the script after the rest of
    /// the pipeline, and a WAIT that ran before it would not cover it. WAIT counts the writes of its own
    /// connection only, so it runs on the connection the enqueue used, never on a new one (which would confirm
    /// nothing at once): a connection lost in between fails the call.
    /// </summary>
    private async ValueTask ConfirmAsync(ReplicaWait wait, IReadOnlyList<EnqueueResult> results, CancellationToken cancellationToken)
    {
        var connection = _redis.Current;
        if (connection is null || connection.IsBroken)
            throw new RedisConnectionException("the connection closed after the enqueue, before WAIT could confirm it; the job may exist on the primary only");
        _batch.Clear();
        _batch.Begin(3).Arg("WAIT"u8).Arg(wait.Replicas).Arg((long)Math.Ceiling(wait.Timeout.TotalMilliseconds));
        var acknowledged = (await connection.ExecuteAsync(_batch, cancellationToken).ConfigureAwait(false)).ThrowIfError().Integer;
        if (acknowledged < wait.Replicas) throw new NotReplicatedException((int)acknowledged, wait, results);
    }

    private string Prepare(EnqueueRequest request)
    {
        EnqueueCheck.Validate(request, _maxJobBytes);
        return request.Id ?? JobId.New(_clock);
    }

    private void Append(EnqueueRequest r, string id)
    {
        _batch.EvalSha(QueueScripts.Enqueue, ScriptKeys, ScriptArgs)
            .Arg(_keys.Job(id))
            .Arg(_keys.Queue(r.Queue))
            .Arg(_keys.Scheduled)
            .Arg(r.UniqueKey is null ? _keys.NoUnique : _keys.Unique(r.UniqueKey))
            .Arg(_keys.Wake)
            .Arg(_keys.QueueSet)
            .Arg(id)
            .Arg(r.Type)
            .Arg(r.Queue)
            .Arg(r.ArgsJson)
            .Arg(r.MaxAttempts is { } m ? m.ToString(CultureInfo.InvariantCulture) : "")
            .Arg(r.Timeout is { } t ? ((long)Math.Ceiling(t.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) : "")
            .Arg(RunAt(r))
            .Arg(r.UniqueKey ?? "")
            .Arg(((long)r.UniqueTtl.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
    }

    private static string RunAt(EnqueueRequest r)
    {
        if (r.Delay is { } d) return "+" + ((long)d.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        if (r.RunAt is { } at) return at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        return "";
    }

    private static EnqueueResult ToResult(RedisReply reply)
    {
        reply.ThrowIfError();
        var items = reply.Items;
        if (items is not { Length: 3 }) throw new RedisProtocolException("enqueue script: unexpected reply " + reply);
        return new EnqueueResult(items[1].AsString()!, items[0].Integer == 1, items[2].AsString()!);
    }
}
