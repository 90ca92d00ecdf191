using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Queue.Admin;

/// <summary>One entry of the dead list: the job's id and the fields an operator needs to decide about it.</summary>
public sealed record DeadJob(string Id, string? Type, string? Queue, long? Attempt, string? LastError, long? DiedAt);

/// <summary>
/// The dead set, for operators: list it newest first, move jobs back to ready (dead_retry.lua) or delete them
/// (dead_purge.lua), in batches so that no script call holds Redis for long. Not thread-safe, like its client.
/// </summary>
public sealed class DeadJobs
{
    /// <summary>Dead entries one script call looks at.</summary>
    public const int Batch = 500;

    private readonly RedisClient _redis;
    private readonly QueueKeys _keys;
    private readonly byte[] _keyPrefix;

    public DeadJobs(RedisClient redis, QueueKeys keys)
    {
        _redis = redis;
        _keys = keys;
        _keyPrefix = keys.KeyPrefix;
    }

    /// <summary>Up to <paramref name="limit"/> dead jobs, newest first; with <paramref name="queue"/>, only that queue's.</summary>
    public async ValueTask<List<DeadJob>> ListAsync(string? queue, int limit, CancellationToken cancellationToken = default)
    {
        var jobs = new List<DeadJob>();
        using var batch = new RedisBatch();
        int page = queue is null ? limit : Math.Max(limit, 1000);
        long start = 0;
        while (jobs.Count < limit)
        {
            batch.Clear();
            batch.Begin(4).Arg("ZREVRANGE").Arg(_keys.Dead).Arg(start).Arg(start + page - 1);
            var ids = (await _redis.ExecuteAsync(batch, cancellationToken).ConfigureAwait(false)).ThrowIfError().Items ?? Array.Empty<RedisReply>();
            if (ids.Length == 0) break;
            batch.Clear();
            foreach (var id in ids)
                batch.Begin(7).Arg("HMGET").Arg(_keys.Job(id.AsString()!)).Arg("type").Arg("queue").Arg("attempt").Arg("last_error").Arg("finished_at");
            var replies = new RedisReply[ids.Length];
            await _redis.ExecutePipelineAsync(batch, replies, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < ids.Length && jobs.Count < limit; i++)
            {
                var f = replies[i].ThrowIfError().Items!;
                if (f[0].IsNil) continue; // its hash expired; the tick or a purge drops the entry
                var q = f[1].AsString();
                if (queue is not null && q != queue) continue;
                jobs.Add(new DeadJob(ids[i].AsString()!, f[0].AsString(), q, ParseLong(f[2].AsString()), f[3].AsString(), ParseLong(f[4].AsString())));
            }
            if (ids.Length < page) break;
            start += page;
        }
        return jobs;
    }

    /// <summary>Moves the given dead jobs back to ready; returns how many were dead and moved.</summary>
    public async ValueTask<long> RetryAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        foreach (var id in ids)
            if (!Names.IsId(id)) throw new ArgumentException(Names.IdRule, nameof(ids));
        using var batch = RetryCall("ids", "", "", ids.Count);
        foreach (var id in ids) batch.Arg(id);
        return Counts(await _redis.ExecuteAsync(batch, cancellationToken).ConfigureAwait(false)).Done;
    }

    /// <summary>Moves every dead job (of <paramref name="queue"/>, when given) back to ready; returns how many.</summary>
    public ValueTask<long> RetryAllAsync(string? queue, CancellationToken cancellationToken = default) =>
        RunBatchesAsync(offset => RetryCall("all", queue ?? "",
            Batch.ToString(CultureInfo.InvariantCulture) + "," + offset.ToString(CultureInfo.InvariantCulture), 0), cancellationToken);

    /// <summary>Deletes every dead job (of <paramref name="queue"/>, when given), hash and entry; returns how many.</summary>
    public ValueTask<long> PurgeAsync(string? queue, CancellationToken cancellationToken = default) =>
        RunBatchesAsync(offset =>
        {
            var batch = new RedisBatch();
            batch.EvalSha(QueueScripts.DeadPurge, 1, 4).Arg(_keys.Dead).Arg(_keyPrefix).Arg(queue ?? "").Arg(Batch).Arg(offset);
            return batch;
        }, cancellationToken);

    private async ValueTask<long> RunBatchesAsync(Func<long, RedisBatch> call, CancellationToken cancellationToken)
    {
        long total = 0, offset = 0;
        while (true)
        {
            using var batch = call(offset);
            var (done, kept, looked) = Counts(await _redis.ExecuteAsync(batch, cancellationToken).ConfigureAwait(false));
            total += done;
            offset += kept;
            if (looked < Batch) return total;
        }
    }

    private static (long Done, long Kept, long Looked) Counts(RedisReply reply)
    {
        var items = reply.ThrowIfError().Items;
        if (items is not { Length: 3 }) throw new RedisProtocolException("dead script: unexpected reply " + reply);
        return (items[0].Integer, items[1].Integer, items[2].Integer);
    }

    internal static long? ParseLong(string? s) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>A dead_retry.lua call with its fixed arguments; with <paramref name="ids"/> &gt; 0 the caller appends the ids.</summary>
    private RedisBatch RetryCall(string mode, string queue, string batchArg, int ids)
    {
        var batch = new RedisBatch();
        batch.EvalSha(QueueScripts.DeadRetry, 2, 5 + ids).Arg(_keys.Dead).Arg(_keys.Wake).Arg(_keyPrefix)
            .Arg(((long)EnqueueRequest.UniqueTtlDefault.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))
            .Arg(mode).Arg(queue).Arg(batchArg);
        return batch;
    }
}
