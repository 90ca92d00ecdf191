using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// Tells a Redis that lost jobd's data from one that was merely unreachable. A restart without persistence (or
/// a flush) leaves an empty database that looks exactly like a quiet one, and the jobs that were queued,
/// scheduled or running are gone without a trace. Duties:
/// 1. at start, make sure the marker key {P}:marker exists (SET NX GET, so the first worker's random epoch wins)
///    and remember its value;
/// 2. after each reconnection, before the next control tick, read it again: missing, or replaced by another
///    worker's new epoch, means Redis lost jobd's data since this worker last looked: one error line, naming a
///    restart without persistence when INFO's run_id changed and a flush or deletion otherwise; the marker is
///    written again, so the next loss is seen too;
/// 3. never stop anything: jobd keeps working with whatever Redis holds now.
/// A failed check (Redis still down, refused) is tried again at the next tick; the tick reports the outage.
/// </summary>
public sealed class RedisResetDetector
{
    private static readonly PreparedCommand InfoServer = PreparedCommand.Create("INFO", "server");
    private readonly QueueKeys _keys;
    private readonly Log _log;
    private readonly RedisBatch _batch = new();
    private string? _epoch;
    private string? _runId;
    private volatile bool _due = true;

    public RedisResetDetector(QueueKeys keys, Log log)
    {
        _keys = keys;
        _log = log;
    }

    /// <summary>A connection to Redis was (re)made: check the marker before the next tick.</summary>
    public void Reconnected() => _due = true;

    public async Task CheckIfDueAsync(RedisClient redis, CancellationToken cancel)
    {
        if (!_due) return;
        try
        {
            var runId = await ReadRunIdAsync(redis, cancel).ConfigureAwait(false);
            // A fresh epoch each time: written again after a loss, it differs from what every other worker saw.
            var fresh = Guid.NewGuid().ToString("N");
            _batch.Clear();
            _batch.Begin(5).Arg("SET"u8).Arg(_keys.Marker).Arg(fresh).Arg("NX"u8).Arg("GET"u8);
            var previous = (await redis.ExecuteAsync(_batch, cancel).ConfigureAwait(false)).ThrowIfError().AsString();
            var current = previous ?? fresh;
            if (_epoch is null)
            {
                if (previous is null)
                    _log.Info($"wrote the marker key {_keys.Text(_keys.Marker)}: a Redis database new to jobd (or emptied while no worker was connected); its loss will be reported");
            }
            else if (current != _epoch)
            {
                _log.Error(LossLine(runId));
            }
            _epoch = current;
            _runId = runId ?? _runId;
            // Only now: the check's own first connection reports "up" (Reconnected) while it runs, and must not
            // ask for a second check (an idle worker sent INFO and SET once more, 10 s later).
            _due = false;
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
            _due = true;
        }
    }

    private string LossLine(string? runId)
    {
        var marker = _keys.Text(_keys.Marker);
        if (runId is not null && _runId is not null && runId != _runId)
            return $"redis lost jobd's data: it restarted (run_id {_runId} -> {runId}) without the marker key {marker}, so it runs without persistence (or lost its files): every job queued, scheduled or running before is gone; marker written again (docs/redis-topologies.md)";
        return $"redis lost jobd's data: the marker key {marker} is gone" + (runId is null ? "" : " though Redis did not restart (FLUSHDB, FLUSHALL or deleted keys)")
               + ": jobs queued, scheduled or running before may be gone; marker written again (docs/redis-topologies.md)";
    }

    /// <summary>INFO's run_id: new at every start of the server. Null when INFO is refused (an ACL without it).</summary>
    private static async Task<string?> ReadRunIdAsync(RedisClient redis, CancellationToken cancel)
    {
        var reply = await redis.ExecuteAsync(InfoServer, cancel).ConfigureAwait(false);
        if (reply.IsError) return null;
        var info = reply.AsString() ?? "";
        int at = info.IndexOf("run_id:", StringComparison.Ordinal);
        if (at < 0) return null;
        int end = info.IndexOfAny(new[] { '\r', '\n' }, at);
        return info[(at + 7)..(end < 0 ? info.Length : end)];
    }
}
