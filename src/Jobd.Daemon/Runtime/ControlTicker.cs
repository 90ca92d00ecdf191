using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Runtime;

/// <summary>
/// The control timer, on a connection of its own. Each tick is one script call: heartbeat (extending the running
/// job's lease), due scheduled and retry jobs moved to their queues, expired leases recovered, retention trimmed.
/// Cadence: every heartbeat interval while a job runs (its lease is three intervals long); otherwise at the
/// earliest due job or lease deadline the last tick reported, and at least every idle interval, so an idle
/// worker sends about one command per idle interval. When more jobs are due than one call moves (a batch of
/// 1,000 keeps each script call short), the tick reports how many wait and the rest go in one pipelined round
/// trip of as many calls as needed: round trips stay constant whatever the number of due jobs.
/// A failed tick is logged on state change only; the ticker never stops because Redis is down. After failed
/// ticks it recovers no expired lease for one lease period: every lease may have expired while Redis refused or
/// lost the heartbeats, and live workers need that long to renew theirs (a dead worker's job waits one lease more).
/// With cron schedules it also runs the <see cref="CronFirer"/> after each tick and wakes at the next fire.
/// After a reconnection it first lets the <see cref="RedisResetDetector"/> look for a Redis that lost jobd's data.
/// At every wake it asks the <see cref="StuckHandlerGuard"/> whether the running job's handler ignores its cancellation.
/// </summary>
public sealed class ControlTicker
{
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(20);
    // One pipeline moves at most this many batches (100,000 jobs at 1,000 each); a longer backlog ticks again.
    private const int MaxCatchUpCalls = 100;
    private readonly RedisClient _redis;
    private readonly WorkerProtocol _protocol;
    private readonly LoopState _state;
    private readonly Log _log;
    private readonly TimeSpan _heartbeat;
    private readonly TimeSpan _idle;
    private readonly int _batch;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private readonly RecycleGuard _recycle;
    private readonly RedisBatch _commands = new();
    private RedisReply[] _replies = Array.Empty<RedisReply>();
    private volatile bool _tickNow;
    private volatile bool _busyCadence;
    private bool _failing;

    /// <summary>A tick failed since the last one that worked (Redis down, refusing writes, unreachable).</summary>
    private bool _outage;

    /// <summary>No expired lease is recovered before this timestamp: one lease period after an outage.</summary>
    private long _recoverFrom;
    private readonly CronFirer? _cron;

    public ControlTicker(RedisClient redis, WorkerProtocol protocol, LoopState state, Log log, TimeSpan heartbeat, TimeSpan idle,
        int batch, TimeProvider clock, RecycleGuard recycle, CronFirer? cron = null)
    {
        _cron = cron;
        _recycle = recycle;
        _redis = redis;
        _protocol = protocol;
        _state = state;
        _log = log;
        _heartbeat = heartbeat;
        _idle = idle;
        _batch = batch;
        _clock = clock;
    }

    /// <summary>Asked before each tick whether Redis lost jobd's data since the last (re)connection.</summary>
    public RedisResetDetector? ResetDetector { get; init; }

    /// <summary>Checked at every wake: the self-kill for a handler that ignores its cancellation.</summary>
    public StuckHandlerGuard? Guard { get; init; }

    /// <summary>Told of queue keys that are not lists (the tick parked their jobs); null: not reported.</summary>
    public QueueKeyHealth? QueueKeys { get; init; }

    /// <summary>Told the outbox length after each tick (with an outbox): the result sink drains what waits.</summary>
    public Action<long>? OutboxSeen { get; init; }

    /// <summary>
    /// A job started: the next tick must come within one heartbeat interval (no extra tick now). Only the step
    /// from idle to busy needs a nudge; while the ticker keeps busy cadence a nudge per job would only wake a
    /// thread per job for nothing (measured: ~9 sched_yield calls per no-op job).
    /// </summary>
    public void JobStarted()
    {
        if (!_busyCadence) Nudge();
    }

    /// <summary>The loop was woken but found nothing: a new earliest scheduled job may need an earlier tick.</summary>
    public void TickSoon()
    {
        _tickNow = true;
        Nudge();
    }

    private void Nudge()
    {
        if (_nudge.CurrentCount == 0)
        {
            try { _nudge.Release(); }
            catch (SemaphoreFullException) { }
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        long next = _clock.GetTimestamp();
        long nextTick = next;
        while (!stop.IsCancellationRequested)
        {
            Guard?.Check();
            var wait = _clock.GetElapsedTime(_clock.GetTimestamp(), next);
            if (wait > TimeSpan.Zero && !_tickNow)
            {
                bool nudged;
                try { nudged = await _nudge.WaitAsync(wait, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                if (nudged && !_tickNow)
                {
                    if (_state.Job is not null) nextTick = Math.Min(nextTick, _clock.GetTimestamp() + Ticks(_heartbeat));
                    next = Math.Min(next, nextTick);
                    continue;
                }
            }
            // Woken for a cron fire alone, the tick itself is not due: no tick then.
            if (_tickNow || _clock.GetTimestamp() >= nextTick)
            {
                _tickNow = false;
                nextTick = _clock.GetTimestamp() + Ticks(await TickAsync(stop).ConfigureAwait(false));
            }
            next = nextTick;
            if (_cron is not null && !stop.IsCancellationRequested)
                next = Math.Min(next, _clock.GetTimestamp() + Ticks(await _cron.RunAsync(stop).ConfigureAwait(false)));
        }
    }

    /// <summary>
    /// The first tick, run before READY=1 on <paramref name="connected"/> (the loop's client, already connected: the
    /// ticker's own connection may not be made yet, and READY must not wait for it): it touches the sorted sets,
    /// hashes and keys of the prefix with the commands every tick needs, so a refusal here (the ACL user lacks a
    /// command or the prefix's keys) is a configuration error found at start-up; it is returned, not logged. Any
    /// other failure is left to the ticker.
    /// </summary>
    public async Task<RedisServerException?> ProbeAsync(RedisClient connected, Func<RedisServerException, bool> isRefusal, CancellationToken stop)
    {
        try
        {
            var job = _state.Job;
            Report(await TickOnceAsync(connected, job, true, stop).ConfigureAwait(false), job);
            return null;
        }
        catch (RedisServerException e) when (isRefusal(e))
        {
            return e;
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException or OperationCanceledException)
        {
            return null;
        }
    }

    private async Task<TickResult> TickOnceAsync(RedisClient redis, RunningJob? job, bool recover, CancellationToken stop)
    {
        _commands.Clear();
        _protocol.AppendTick(_commands, job?.Id, job?.Token, recover);
        return WorkerProtocol.ParseTick(await redis.ExecuteAsync(_commands, stop).ConfigureAwait(false));
    }

    /// <summary>One tick; returns how long until the next.</summary>
    private async Task<TimeSpan> TickAsync(CancellationToken stop)
    {
        // A finished job whose settlement waits (Redis refused or unreachable) keeps its lease too.
        var job = _state.Job ?? _state.Settling;
        try
        {
            if (ResetDetector is { } detector) await detector.CheckIfDueAsync(_redis, stop).ConfigureAwait(false);
            bool recover = !_outage && _clock.GetTimestamp() >= _recoverFrom;
            var result = await TickOnceAsync(_redis, job, recover, stop).ConfigureAwait(false);
            if (_outage)
            {
                // Redis refused or lost every heartbeat meanwhile, the other workers' too: their leases may all
                // have expired. Recover nothing for one lease period, in which every live worker renews its own.
                _outage = false;
                _recoverFrom = _clock.GetTimestamp() + Ticks(_heartbeat * 3);
            }
            if (_failing)
            {
                _failing = false;
                _log.Info("control tick working again");
            }
            Report(result, job);
            if (result.MoreDue > 0) result = await CatchUpAsync(result.MoreDue, recover, stop).ConfigureAwait(false);
            if (result.Outbox >= 0) OutboxSeen?.Invoke(result.Outbox);
            _recycle.CheckMemory();
            _busyCadence = _state.Job is not null || _state.Settling is not null;
            if (!_busyCadence) ImageTrim.WhenIdle();
            if (result.MoreDue > 0) return TimeSpan.Zero;
            if (_busyCadence) return _heartbeat;
            var untilEvent = result.NextEventMs < 0 ? _idle : TimeSpan.FromMilliseconds(result.NextEventMs);
            // Expired leases left for later say "now": wait for the end of the grace instead (at most a heartbeat).
            if (!recover && untilEvent < _heartbeat) untilEvent = _heartbeat;
            return untilEvent < MinDelay ? MinDelay : untilEvent < _idle ? untilEvent : _idle;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return TimeSpan.Zero;
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
            if (!_failing && e is RedisServerException)
                _log.Error("control tick failed: " + e.Message + "; retrying every heartbeat");
            _failing = true;
            _outage = true;
            return _heartbeat;
        }
    }

    /// <summary>
    /// Moves a backlog of due jobs in one round trip: ceil(more / batch) tick calls pipelined. They carry no job, so
    /// the lease was handled by the tick before; each call is atomic, so replicas doing the same never move a job
    /// twice (a call that finds nothing left moves nothing).
    /// </summary>
    private async Task<TickResult> CatchUpAsync(long more, bool recover, CancellationToken stop)
    {
        long wanted = (more + _batch - 1) / _batch;
        int calls = wanted > MaxCatchUpCalls ? MaxCatchUpCalls : (int)wanted;
        if (_replies.Length < calls) _replies = new RedisReply[calls];
        _commands.Clear();
        for (int i = 0; i < calls; i++) _protocol.AppendTick(_commands, null, null, recover);
        await _redis.ExecutePipelineAsync(_commands, _replies, stop).ConfigureAwait(false);
        TickResult last = default;
        for (int i = 0; i < calls; i++)
        {
            last = WorkerProtocol.ParseTick(_replies[i]);
            Report(last, null);
        }
        return last;
    }

    private void Report(in TickResult r, RunningJob? job)
    {
        if (r.BadQueues.Length > 0) QueueKeys?.Ticked(r.BadQueues);
        for (int i = 0; i + 1 < r.Refused.Length; i += 2)
            _log.Warn($"job {r.Refused[i]} is dead without running: {r.Refused[i + 1]}");
        for (int i = 0; i + 1 < r.Recovered.Length; i += 2)
            _log.Warn($"recovered job {r.Recovered[i]} from worker {r.Recovered[i + 1]}, whose lease expired; back at the front of its queue, attempt unspent");
        for (int i = 0; i + 1 < r.Buried.Length; i += 2)
            _log.Error($"job {r.Buried[i]} is dead: its worker ({r.Buried[i + 1]}) died while running it too many times (worker_lost)");
        // Only if the job still runs here: a job that finished during the tick's round trip was settled, not taken away.
        if (r.Lease == 0 && job is not null && ReferenceEquals(_state.Job, job))
            _log.Warn($"lease lost: job {job.Id} was recovered by another worker while this one runs it; its outcome will not be recorded");
    }

    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _clock.TimestampFrequency);
}
