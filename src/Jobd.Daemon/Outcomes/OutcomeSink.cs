using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Postgres;
using Jobd.Queue;
using Jobd.Resp;
using Npgsql;

namespace Jobd.Outcomes;

/// <summary>
/// The result sink: drains the outbox into Postgres on its own Redis connection. Duties, in order:
/// 1. make sure the consumer group exists and the schema is migrated (retried like any other Postgres call);
/// 2. when nudged (the loop recorded an outcome; a tick saw entries waiting): read a batch of new entries, and
///    once per claim interval first take over entries that a dead worker read but never committed;
/// 3. insert the batch in one statement, and only after the commit acknowledge and delete the entries; a row
///    Postgres refuses never holds back the others (OutcomeSink.Refused.cs);
/// 4. while Postgres is down or refuses, keep the batch, retry with backoff (1 s doubling to 30 s), and say
///    so once when it goes and once when it comes back. Jobs keep running meanwhile: the outbox holds the
///    outcomes, up to JOBD_OUTBOX_MAX, where the loop stops taking new jobs.
/// An idle sink sends nothing: it waits for a nudge, not on a timer.
/// </summary>
public sealed partial class OutcomeSink
{
    /// <summary>Entries per read: outcomes carry at most 32 KB of args and 32 KB of text (common.lua), so a read
    /// stays far below the reply limit however large the jobs are.</summary>
    public const int Batch = 500;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly RedisClient _redis;
    private readonly NpgsqlDataSource _dataSource;
    private readonly Outbox _outbox;
    private readonly OutcomeWriter _writer;
    private readonly Migrator _migrator;
    private readonly Log _log;
    private readonly SinkStatus _status;
    private readonly PostgresOptions _options;
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private readonly RedisBatch _ack = new();
    private readonly byte[] _workerKey;
    private readonly long _workerTtlMs;
    private readonly RedisReply[] _publishReplies = new RedisReply[2];
    private readonly List<OutcomeEntry> _held = new(Batch);

    /// <summary>Entries written (or given up on) but not yet acknowledged in the outbox.</summary>
    private readonly List<OutcomeEntry> _settled = new(Batch);
    private readonly string _server;
    private volatile bool _draining;
    private readonly CancellationTokenSource _drainStop = new();
    private long _lastClaimMs = long.MinValue / 2;
    private readonly TimeSpan _claimIdle;
    private bool _redisFailing, _broken;
    private bool _groupReady, _migrated;

    /// <summary>null until the first success or failure; then whether the last Postgres call worked.</summary>
    private bool? _postgresUp;

    /// <param name="server">host:port of the database, named in the log lines about it.</param>
    public OutcomeSink(RedisClient redis, NpgsqlDataSource dataSource, string server, QueueKeys keys, string workerId, PostgresOptions options,
        TimeSpan claimIdle, TimeSpan workerTtl, Log log, SinkStatus status)
    {
        _server = server;
        _workerTtlMs = (long)workerTtl.TotalMilliseconds;
        _redis = redis;
        _dataSource = dataSource;
        _options = options;
        _outbox = new Outbox(keys, workerId, Batch, claimIdle);
        _claimIdle = claimIdle;
        _workerKey = keys.Worker(workerId);
        _writer = new OutcomeWriter(dataSource, options);
        _migrator = new Migrator(dataSource, options);
        _log = log;
        _status = status;
    }

    public SinkStatus Status => _status;

    /// <summary>Something may be waiting in the outbox. Cheap and safe from any thread.</summary>
    public void Nudge()
    {
        if (_nudge.CurrentCount != 0) return;
        try { _nudge.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>The worker is stopping: drain what is there, then return instead of waiting for more.</summary>
    public void BeginStop()
    {
        _draining = true;
        try { _drainStop.Cancel(); }
        catch (ObjectDisposedException) { }
        Nudge();
    }

    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromSeconds(1);
        bool nudged = true;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!nudged)
                {
                    if (_draining) break;
                    await _nudge.WaitAsync(stop).ConfigureAwait(false);
                }
                nudged = false;
                if (!_migrated)
                {
                    var applied = await _migrator.RunAsync(stop).ConfigureAwait(false);
                    _migrated = true;
                    if (applied.Count > 0) _log.Info($"postgres schema {_options.Schema}: applied migrations {string.Join(", ", applied)}");
                    // Reached and migrated: up from now on, not only from the first batch (an idle worker's
                    // jobd_postgres_up and `jobd stats` would otherwise say nothing until its first outcome).
                    if (Up()) await PublishAsync("up", stop).ConfigureAwait(false);
                }
                if (!_groupReady) await CreateGroupAsync(stop).ConfigureAwait(false);
                if (_settled.Count > 0) await AcknowledgeAsync(stop).ConfigureAwait(false); // its reply was lost
                if (_held.Count == 0) await ReadAsync(stop).ConfigureAwait(false);
                RedisFine();
                if (_held.Count == 0) continue;
                bool full = _held.Count >= Batch;
                int rows = await WriteAsync(stop).ConfigureAwait(false);
                if (Up()) await PublishAsync("up", stop).ConfigureAwait(false);
                _status.AddWritten(rows);
                await AcknowledgeAsync(stop).ConfigureAwait(false);
                Runtime.AllocationPacer.Check();
                backoff = TimeSpan.FromSeconds(1);
                if (_held.Count > 0)
                {
                    // Rows refused even in their minimal form: the rest went through; these are tried again
                    // after a pause, a bounded number of times.
                    if (!await DelayAsync(RefusedRowPause, stop).ConfigureAwait(false)) return;
                    nudged = true;
                    continue;
                }
                // A full batch may have more behind it; otherwise the next outcome (or tick) nudges again.
                nudged = full;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException or RedisProtocolException)
            {
                if (e is RedisServerException { Prefix: "NOGROUP" }) _groupReady = false;
                else RedisFailed(e);
                if (_draining) break;
                // The loop's connection reports Redis outages; the sink waits and tries again.
                if (!await DelayAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false)) return;
                nudged = true;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                if (Down(e)) await PublishAsync("down: " + PostgresDataSource.Describe(e), stop).ConfigureAwait(false);
                if (e is PostgresException { SqlState: "42P01" or "3F000" }) _migrated = false; // table or schema gone
                if (_draining) return; // stopping: what is left waits in the outbox for the next worker
                if (!await DelayAsync(backoff, stop).ConfigureAwait(false)) return;
                backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
                nudged = true;
            }
            catch (Exception e)
            {
                // A bug, not an outage: say it once, keep the batch, keep trying (the outbox keeps the outcomes).
                if (!_broken)
                {
                    _broken = true;
                    _log.Error($"result sink failed unexpectedly: {e.GetType().Name}: {e.Message}; retrying every 30s");
                }
                if (_draining || !await DelayAsync(MaxBackoff, stop).ConfigureAwait(false)) return;
                nudged = true;
            }
        }
        await LeaveGroupAsync(stop).ConfigureAwait(false);
    }

    /// <summary>
    /// A clean stop with nothing left: this worker's consumer leaves the group, so consumers do not pile up. Only
    /// when Redis lists nothing pending for it: a read whose reply was lost leaves entries pending under this
    /// consumer that the sink never saw, and XGROUP DELCONSUMER would delete them from the pending list, never to
    /// be delivered again (and still counted toward JOBD_OUTBOX_MAX). Left in place, another worker claims them.
    /// </summary>
    private async Task LeaveGroupAsync(CancellationToken stop)
    {
        if (_held.Count > 0 || _settled.Count > 0 || !_groupReady || _redisFailing) return;
        try
        {
            var pending = await _redis.ExecuteAsync(_outbox.PendingOfThisConsumer, stop).ConfigureAwait(false);
            pending.ThrowIfError();
            if (pending.Items is { Length: > 0 })
            {
                _log.Info("result sink: outcomes this worker read but never received (a lost reply) stay pending for another worker to claim");
                return;
            }
            _ack.Clear();
            _outbox.AppendLeave(_ack);
            await _redis.ExecuteAsync(_ack, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException or OperationCanceledException)
        {
            // Best effort: a consumer left behind costs a few bytes, and its pending entries are claimed by others.
        }
    }

    private void RedisFailed(Exception e)
    {
        if (_redisFailing) return;
        _redisFailing = true;
        if (e is RedisConnectionException) _log.Debug($"result sink: redis: {e.Message}"); // the loop reports outages
        else _log.Warn("result sink: redis refused: " + e.Message + "; outcomes wait in the outbox; retrying");
    }

    private void RedisFine()
    {
        if (!_redisFailing) return;
        _redisFailing = false;
        _log.Info("result sink: redis answering again");
    }

    private async Task CreateGroupAsync(CancellationToken stop)
    {
        try
        {
            (await _redis.ExecuteAsync(_outbox.CreateGroup, stop).ConfigureAwait(false)).ThrowIfError();
        }
        catch (RedisServerException e) when (e.Prefix == "BUSYGROUP")
        {
            // Another worker made it first: as good.
        }
        _groupReady = true;
    }

    /// <summary>
    /// Entries read by a worker that died before committing them are taken over once per claim interval, before
    /// the new ones: looking only when nothing new is waiting would leave them behind for as long as jobs keep
    /// coming. They cannot be taken before they were idle for claimIdle, so asking more often is useless; a full
    /// claim may have more behind it, so the next read claims again.
    /// </summary>
    private async Task ReadAsync(CancellationToken stop)
    {
        long now = Environment.TickCount64;
        if (now - _lastClaimMs >= (long)_claimIdle.TotalMilliseconds)
        {
            Outbox.ParseClaim(await _redis.ExecuteAsync(_outbox.Claim, stop).ConfigureAwait(false), _held);
            if (_held.Count < Batch) _lastClaimMs = now;
            if (_held.Count > 0) return;
        }
        Outbox.ParseRead(await _redis.ExecuteAsync(_outbox.ReadNew, stop).ConfigureAwait(false), _held);
    }

    private async Task AcknowledgeAsync(CancellationToken stop)
    {
        if (_settled.Count == 0) return;
        _ack.Clear();
        _outbox.AppendAck(_ack, _settled);
        (await _redis.ExecuteAsync(_ack, stop).ConfigureAwait(false)).ThrowIfError();
        _settled.Clear();
    }

    /// <summary>The sink's state in this worker's hash, for `jobd stats`; best effort, once per change.</summary>
    private async Task PublishAsync(string state, CancellationToken stop)
    {
        try
        {
            _ack.Clear();
            _ack.Begin(4).Arg("HSET"u8).Arg(_workerKey).Arg("sink"u8).Arg(state.Length > 200 ? state[..200] : state);
            // The hash may be gone (a worker that stopped, or one silent past its listing): never leave it without a TTL.
            _ack.Begin(3).Arg("PEXPIRE"u8).Arg(_workerKey).Arg(_workerTtlMs);
            await _redis.ExecutePipelineAsync(_ack, _publishReplies, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
        }
    }

    /// <summary>True when this is a change of state.</summary>
    private bool Up()
    {
        if (_postgresUp == true) return false;
        if (_postgresUp == false) _log.Info("postgres up: the result sink is draining the outbox again");
        _postgresUp = true;
        _status.SetUp(true);
        return true;
    }

    private bool Down(Exception e)
    {
        if (_postgresUp == false) return false;
        _postgresUp = false;
        _status.SetUp(false);
        var waiting = _status.Outbox > 0 ? $" ({_status.Outbox} waiting)" : "";
        var what = e is PostgresException { IsTransient: false } ? "postgres refused the outcomes" : "postgres down";
        _log.Warn($"{what} ({_server}): {PostgresDataSource.Describe(e)}; jobs keep running, outcomes wait in the Redis outbox{waiting}; retrying with backoff");
        return true;
    }

    /// <summary>False when stopped meanwhile (or stopping: a stop does not wait out a backoff).</summary>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, _drainStop.Token);
        try
        {
            await Task.Delay(delay, TimeProvider.System, either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
