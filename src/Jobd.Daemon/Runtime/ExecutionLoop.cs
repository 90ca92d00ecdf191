using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// The one execution slot. Duties, in order, per turn:
/// 1. after (re)connecting, reclaim a job whose take reply was lost with the connection;
/// 2. settle the previous job and take the next, in one script call (one round trip per job when busy);
/// 3. run it (JobRunner), or, with nothing ready, wait on the wake list with a blocking pop that any enqueue or
///    due job ends at once (no polling);
/// 4. on a graceful stop, or when the recycling guard asks for a fresh process: take nothing more, settle (or
///    put back) the running job, return.
/// A Redis outage keeps the pending settlement and tries again once the client has reconnected; the loop never
/// exits because a dependency is down.
/// </summary>
public sealed class ExecutionLoop
{
    private readonly RedisClient _redis;
    private readonly WorkerProtocol _protocol;
    private readonly JobRunner _runner;
    private readonly LoopState _state;
    private readonly ControlTicker _ticker;
    private readonly Log _log;
    private readonly SystemdNotifier _notifier;
    /// <summary>The level of the per-job "started" and "done" lines: info with JOBD_LOG_JOBS=1, debug otherwise.</summary>
    private readonly LogLevel _jobLevel;
    private readonly string _tokenPrefix;
    private readonly RedisBatch _batch = new();
    private readonly RecycleGuard _recycle;
    private readonly QueueKeyHealth _queueKeys;

    /// <summary>How long after the grace period (or a second signal) Redis may take to record the last outcome.</summary>
    public static readonly TimeSpan SettleMargin = TimeSpan.FromSeconds(1);
    private long _takes;

    /// <summary>systemd STATUS updates; null without NOTIFY_SOCKET.</summary>
    public LoopStatus? Status { get; init; }

    /// <summary>Job counters for /metrics; null without JOBD_METRICS_ADDR (then no clock is read per job).</summary>
    public Jobd.Ops.Metrics.JobMetrics? Metrics { get; init; }

    public ExecutionLoop(RedisClient redis, WorkerProtocol protocol, JobRunner runner, LoopState state, ControlTicker ticker,
        Log log, SystemdNotifier notifier, string workerId, bool logJobs, RecycleGuard recycle, QueueKeyHealth queueKeys)
    {
        _queueKeys = queueKeys;
        _recycle = recycle;
        _redis = redis;
        _protocol = protocol;
        _runner = runner;
        _state = state;
        _ticker = ticker;
        _log = log;
        _notifier = notifier;
        _jobLevel = logJobs ? LogLevel.Info : LogLevel.Debug;
        // Tokens fence late settlements, so they must not repeat across workers: the worker id's random tail
        // plus a counter.
        _tokenPrefix = workerId[(workerId.LastIndexOf(':') + 1)..] + ".";
    }

    /// <param name="grace">After a graceful stop, how long Redis may take to accept the last settlement.</param>
    public async Task RunAsync(CancellationToken graceful, CancellationToken immediate, TimeSpan grace)
    {
        // Takes and settlements are never cut short by a signal (a take cancelled in flight may have run, and the
        // put-back after a stop must still happen): they give up only when Redis has not answered SettleMargin
        // after the grace period (first signal) or after the second signal.
        using var giveUp = new CancellationTokenSource();
        using var armGraceful = graceful.Register(() => GiveUpAfter(giveUp, grace + SettleMargin));
        using var armImmediate = immediate.Register(() => GiveUpAfter(giveUp, SettleMargin));
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(graceful, _recycle.Token);
        var settle = Settlement.Nothing;
        bool reclaim = true, idleAnnounced = false, woken = false;
        while (true)
        {
            bool stopping = graceful.IsCancellationRequested || _recycle.Requested;
            if (stopping && settle.Kind == SettleKind.None) return;
            try
            {
                _state.Progress(_redis.Options.CommandTimeout);
                if (reclaim)
                {
                    // The job whose settlement is still to be sent is this worker's to settle, not to put back.
                    await ReclaimAsync(settle.Kind == SettleKind.None ? null : settle.Token, giveUp.Token).ConfigureAwait(false);
                    reclaim = false;
                    _state.Progress(_redis.Options.CommandTimeout);
                }
                var take = await TakeAsync(settle, takeNext: !stopping, giveUp.Token).ConfigureAwait(false);
                _state.Settled();
                var (settled, job, outboxFull) = take;
                if (take.Refused.Length > 0 || take.BadQueues.Length > 0 || take.Skipped.Length > 0 || _queueKeys.AnyBad) ReportTake(take);
                if (_takeRefused is not null)
                {
                    _takeRefused = null;
                    _log.Info("redis accepts the take script again");
                }
                Report(settle, settled);
                if (settled == SettleResult.Applied && settle.Kind is SettleKind.Done or SettleKind.Retry or SettleKind.Dead) OutcomeRecorded?.Invoke();
                // A retry may now be the earliest scheduled job; the ticker must not sleep past it.
                if (settle.Kind == SettleKind.Retry) _ticker.TickSoon();
                settle = Settlement.Nothing;
                if (outboxFull != _outboxFull)
                {
                    _outboxFull = outboxFull;
                    if (outboxFull) _log.Warn("outbox full: outcomes are not reaching Postgres fast enough; taking no jobs until the result sink drains it (JOBD_OUTBOX_MAX)");
                    else _log.Info("outbox below its cap again: taking jobs");
                }
                if (job is null)
                {
                    if (stopping) return;
                    if (take.More) continue;
                    if (outboxFull)
                    {
                        _notifier.Status("paused: outbox full, waiting for Postgres");
                        idleAnnounced = false;
                        await PauseAsync(stopWaiting.Token).ConfigureAwait(false);
                        continue;
                    }
                    if (woken || take.StaleWakes) _ticker.TickSoon();
                    if (!idleAnnounced)
                    {
                        Status?.Idle();
                        idleAnnounced = true;
                    }
                    woken = await WaitForWorkAsync(stopWaiting.Token).ConfigureAwait(false);
                    continue;
                }
                if (idleAnnounced) Status?.Busy();
                idleAnnounced = woken = false;
                settle = await RunJobAsync(job, graceful, immediate).ConfigureAwait(false);
            }
            catch (RedisConnectionException)
            {
                // The client has logged "redis down" once and reconnects on the next call; the pending
                // settlement is sent again then (a repeat of an applied one is recognised by its token), after
                // reclaiming a take whose reply was lost.
                reclaim = true;
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested || stopWaiting.IsCancellationRequested)
            {
                if (settle.Kind != SettleKind.None && giveUp.IsCancellationRequested)
                {
                    _log.Warn($"stopping without recording job {settle.JobId}'s outcome ({settle.Kind}): Redis did not answer in time; the job will be recovered and run again");
                    return;
                }
            }
            catch (RedisServerException e)
            {
                // Once per state change (READONLY replica, MISCONF disk full…), not once a second.
                if (_takeRefused != e.Message) _log.Error($"redis refused the take script: {e.Message}; trying again every second");
                _takeRefused = e.Message;
                await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Jobs sent to dead unread, queue entries dropped, and queue keys that are not lists: one line each, per state
    /// change for keys.
    /// </summary>
    private void ReportTake(in TakeResult take)
    {
        for (int i = 0; i + 1 < take.Refused.Length; i += 2)
            _log.Warn($"job {take.Refused[i]} is dead without running: {take.Refused[i + 1]}");
        for (int i = 0; i + 1 < take.Skipped.Length; i += 2)
            _log.Warn($"dropped a queue entry for job {take.Skipped[i]}: the job is {take.Skipped[i + 1]}, not ready, so this was an extra entry for its id; the job itself is untouched");
        _queueKeys.Taken(take.BadQueues, take.Visited);
    }

    private static void GiveUpAfter(CancellationTokenSource giveUp, TimeSpan delay)
    {
        try { giveUp.CancelAfter(delay); }
        catch (ObjectDisposedException) { }
    }

    private void Report(in Settlement settle, SettleResult settled)
    {
        if (settle.Kind == SettleKind.None) return;
        // A job that goes dead is an error, logged at every level; one that will run again is a warning.
        if (settled == SettleResult.LeaseLost)
            _log.Warn($"lease lost: job {settle.JobId} was recovered while this worker ran it; its outcome ({settle.Kind}) was not recorded");
        else if (settle.Kind == SettleKind.Dead)
            _log.Error($"job {settle.JobId} failed for good: {settle.Text}");
        else if (settle.Kind == SettleKind.Retry)
            _log.Warn($"job {settle.JobId} failed, will retry: {settle.Text}");
        else if (settle.Kind == SettleKind.Requeue)
            _log.Info($"job {settle.JobId} put back in its queue, attempt unspent (stopped before it finished)");
    }

    private async Task<Settlement> RunJobAsync(RunningJob job, CancellationToken graceful, CancellationToken immediate)
    {
        _state.Started(job, _runner.TimeoutOf(job));
        _ticker.JobStarted();
        // Write(level, …) takes a built string: test the level first, so nothing is formatted for nobody.
        if (_log.IsEnabled(_jobLevel))
            _log.Write(_jobLevel, $"job {job.Id} {job.Type} started (queue {job.Queue}, attempt {job.Attempt}/{job.MaxAttempts})");
        long startedAt = Metrics is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        var settle = await _runner.RunAsync(job, graceful, immediate).ConfigureAwait(false);
        Metrics?.Record(job.Type, settle.Kind, System.Diagnostics.Stopwatch.GetElapsedTime(startedAt).TotalSeconds);
        _state.Finished();
        _recycle.AfterJob(_state.JobsDone);
        AllocationPacer.Check();
        if (settle.Kind == SettleKind.Done && _log.IsEnabled(_jobLevel)) _log.Write(_jobLevel, $"job {job.Id} {job.Type} done");
        return settle;
    }

    /// <summary>Called after each settlement that produced an outcome (the result sink drains the outbox).</summary>
    public Action? OutcomeRecorded { get; init; }

    private bool _outboxFull;

    /// <summary>The take script's last refusal, logged once until a take succeeds again.</summary>
    private string? _takeRefused;

    private async Task PauseAsync(CancellationToken stop)
    {
        _state.Progress(OutboxFullPause + _redis.Options.CommandTimeout);
        try { await Task.Delay(OutboxFullPause, TimeProvider.System, stop).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    /// <summary>How long a worker whose outbox is at its cap waits before looking again.</summary>
    public static readonly TimeSpan OutboxFullPause = TimeSpan.FromMilliseconds(500);

    private async Task<TakeResult> TakeAsync(Settlement settle, bool takeNext, CancellationToken cancel)
    {
        _batch.Clear();
        _protocol.AppendTake(_batch, settle, _tokenPrefix + (++_takes).ToString(System.Globalization.CultureInfo.InvariantCulture), takeNext);
        var reply = await _redis.ExecuteAsync(_batch, cancel).ConfigureAwait(false);
        return WorkerProtocol.ParseTake(reply);
    }

    private async Task ReclaimAsync(string? pendingToken, CancellationToken cancel)
    {
        _batch.Clear();
        _protocol.AppendReclaim(_batch, pendingToken);
        var reply = await _redis.ExecuteAsync(_batch, cancel).ConfigureAwait(false);
        var id = reply.ThrowIfError().AsString();
        if (!string.IsNullOrEmpty(id))
            _log.Warn($"reclaimed job {id}: it was taken for this worker but the reply was lost with the connection; it is back at the front of its queue, attempt unspent");
    }

    /// <summary>Blocks until a wake token arrives (true) or the wait times out (false).</summary>
    private async Task<bool> WaitForWorkAsync(CancellationToken graceful)
    {
        _state.Progress(_protocol.WakeWait + _redis.Options.CommandTimeout);
        var woke = await _redis.ExecuteBlockingAsync(_protocol.WaitForWake, _protocol.WakeWait, graceful).ConfigureAwait(false);
        return !woke.IsNil;
    }
}
