using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Ops.Metrics;

/// <summary>
/// Reads jobd_queue_depth at scrape time: one pipelined LLEN per queue this worker serves, on a connection of the
/// metrics endpoint's own (RedisClient is one caller at a time; the loop's and the ticker's are theirs), opened
/// at the first scrape. Bounded cost: as many commands as configured queues, one round trip, a short timeout.
/// </summary>
public sealed class QueueDepthReader : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private readonly RedisClient _redis;
    private readonly QueueKeys _keys;
    private readonly string[] _queues;
    private readonly RedisBatch _batch = new();

    public QueueDepthReader(RedisOptions options, QueueKeys keys, string[] queues)
    {
        _redis = new RedisClient(options);
        _keys = keys;
        _queues = queues;
    }

    /// <summary>Queue and depth in configured order, or null when Redis did not answer within <see cref="Timeout"/>.</summary>
    public async Task<List<KeyValuePair<string, long>>?> ReadAsync(CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(Timeout);
        try
        {
            _batch.Clear();
            foreach (var q in _queues) _batch.Begin(2).Arg("LLEN").Arg(_keys.Queue(q));
            var replies = new RedisReply[_batch.Count];
            await _redis.ExecutePipelineAsync(_batch, replies, deadline.Token).ConfigureAwait(false);
            var depths = new List<KeyValuePair<string, long>>(_queues.Length);
            for (int i = 0; i < _queues.Length; i++)
            {
                // A key of another type (WRONGTYPE) has no depth; the other queues still have theirs.
                if (replies[i].IsError) continue;
                depths.Add(new(_queues[i], replies[i].Integer));
            }
            return depths;
        }
        catch (Exception e) when (e is OperationCanceledException or RedisConnectionException or RedisServerException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _batch.Dispose();
        await _redis.DisposeAsync().ConfigureAwait(false);
    }
}
