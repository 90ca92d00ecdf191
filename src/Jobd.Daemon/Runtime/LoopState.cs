using System;
using System.Threading;
using Jobd.Queue;

namespace Jobd.Runtime;

/// <summary>
/// What the execution loop is doing, published for the control ticker (which job's lease to extend) and the
/// watchdog (is the loop making progress, or inside a wait that has a deadline?). Written by the loop only.
/// </summary>
public sealed class LoopState
{
    private readonly TimeProvider _clock;
    private RunningJob? _job;
    private RunningJob? _settling;
    private long _busyUntil;
    private long _cancelledAt;
    /// <summary>The bound of the loop's current step, in timestamp ticks (read and written by the loop only).</summary>
    private long _stepTicks;

    public LoopState(TimeProvider clock)
    {
        _clock = clock;
        // Being created counts as progress: the watchdog's first look comes before the loop's first step, and a
        // zero bound made it report a stuck loop at every start.
        _busyUntil = clock.GetTimestamp();
    }

    public RunningJob? Job => Volatile.Read(ref _job);

    /// <summary>
    /// The job that finished here and whose outcome Redis has not recorded yet (an outage keeps it pending). Its
    /// lease is renewed like a running job's: otherwise, once Redis is back, a tick could recover the very job
    /// this worker is about to settle, and it would run again.
    /// </summary>
    public RunningJob? Settling => Volatile.Read(ref _settling);

    /// <summary>The settlement reached Redis (applied, or refused by token).</summary>
    public void Settled() => Volatile.Write(ref _settling, null);

    public long JobsDone { get; private set; }

    /// <summary>The loop is alive now and will be back within <paramref name="atMost"/> (a bounded wait or a job's deadline).</summary>
    public void Progress(TimeSpan atMost)
    {
        long now = _clock.GetTimestamp();
        _stepTicks = Ticks(atMost);
        Volatile.Write(ref _busyUntil, now + _stepTicks);
    }

    /// <summary>
    /// The loop's Redis client starts a connection attempt inside the current step: it will have connected or be
    /// trying again within <paramref name="attemptAtMost"/>, and once connected the step still has the bound it
    /// announced. Each attempt renews the deadline, so a reconnect that keeps trying through a Redis outage feeds
    /// the watchdog while one that hangs (no next attempt within its bound) starves it.
    /// </summary>
    public void Reconnecting(TimeSpan attemptAtMost)
    {
        long now = _clock.GetTimestamp();
        Volatile.Write(ref _busyUntil, now + Ticks(attemptAtMost) + _stepTicks);
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);

    public void Started(RunningJob job, TimeSpan deadline)
    {
        // Reset before the job is published: a reader that sees this job never sees the last job's cancellation.
        Volatile.Write(ref _cancelledAt, 0);
        Volatile.Write(ref _job, job);
        Progress(deadline);
    }

    public void Finished()
    {
        Volatile.Write(ref _settling, _job);
        Volatile.Write(ref _job, null);
        JobsDone++;
        Progress(TimeSpan.Zero);
    }

    /// <summary>The running job's handler was asked to stop (timeout, end of the shutdown grace, second signal).</summary>
    public void HandlerCancelled() => Interlocked.CompareExchange(ref _cancelledAt, Math.Max(1, _clock.GetTimestamp()), 0);

    /// <summary>
    /// The job whose handler was cancelled more than <paramref name="grace"/> ago and has still not returned;
    /// null when none. The job is read on both sides of the cancellation time, so a job that started meanwhile
    /// is never blamed for its predecessor's cancellation.
    /// </summary>
    public RunningJob? IgnoringCancellation(TimeSpan grace)
    {
        var job = Job;
        if (job is null) return null;
        long at = Volatile.Read(ref _cancelledAt);
        if (at == 0 || !ReferenceEquals(job, Job)) return null;
        return _clock.GetElapsedTime(at) > grace ? job : null;
    }

    /// <summary>True while the loop is within the bound it announced: the watchdog may be fed.</summary>
    public bool IsHealthy(TimeSpan slack) =>
        _clock.GetTimestamp() <= Volatile.Read(ref _busyUntil) + Ticks(slack);
}
