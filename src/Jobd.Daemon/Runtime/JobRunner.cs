using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers;
using Jobd.Queue;

namespace Jobd.Runtime;

/// <summary>
/// Runs one job and turns how it ended into a <see cref="Settlement"/>. Duties: refuse arguments that are not
/// acceptable JSON (dead, "malformed_args"); find the handler (none: dead, "no_route"); enforce the timeout by
/// cancelling the handler (a timeout is a retryable failure); treat an unhandled exception as retryable with its
/// type and message; on a graceful stop let the job finish within the grace period, then cancel it and put it back
/// unspent. Never throws: no job can crash the loop; a handler that runs out of memory ends the process instead
/// (<see cref="FatalExit"/>).
/// </summary>
public sealed class JobRunner
{
    private readonly HandlerRegistry _handlers;
    private readonly TimeSpan _defaultTimeout;
    private readonly TimeSpan _grace;
    private readonly Random _random = new();

    public JobRunner(HandlerRegistry handlers, TimeSpan defaultTimeout, TimeSpan grace)
    {
        _handlers = handlers;
        _defaultTimeout = defaultTimeout;
        _grace = grace;
    }

    /// <summary>Told when the running job's handler is cancelled (the <see cref="StuckHandlerGuard"/> reads it).</summary>
    public LoopState? State { get; init; }

    /// <summary>
    /// Ends the process when a handler runs out of memory: the heap is in no state to trust, and a retry in this
    /// process would likely fail the same way. Null (unit tests): a retryable failure like any exception.
    /// </summary>
    public FatalExit? Fatal { get; init; }

    public TimeSpan TimeoutOf(RunningJob job) => job.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : _defaultTimeout;

    public async Task<Settlement> RunAsync(RunningJob job, CancellationToken graceful, CancellationToken immediate)
    {
        // Not retried: the same bytes would be refused again.
        if (job.ArgsProblem is { } problem)
            return new Settlement(SettleKind.Dead, job.Id, job.Token, "malformed_args: " + problem, 0);
        if (!_handlers.TryGet(job.Type, out var handler))
            return new Settlement(SettleKind.Dead, job.Id, job.Token, "no_route: no handler for type " + job.Type, 0);

        var timeout = TimeoutOf(job);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(immediate);
        cancel.CancelAfter(timeout);
        // After a graceful stop the job keeps running until the grace period ends, then it is cancelled too.
        using var graceTimer = graceful.Register(() => { try { cancel.CancelAfter(_grace); } catch (ObjectDisposedException) { } });
        // Disposed (waiting for a callback in progress) before the next job starts, so a late cancellation is
        // never taken for the next job's.
        using var cancelled = State is null ? default : cancel.Token.Register(static s => ((LoopState)s!).HandlerCancelled(), State);
        JobOutcome outcome;
        try
        {
            outcome = await handler.RunAsync(job, cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            if (graceful.IsCancellationRequested || immediate.IsCancellationRequested)
                return new Settlement(SettleKind.Requeue, job.Id, job.Token, "", 0);
            outcome = JobOutcome.RetryLater($"timeout after {timeout.TotalSeconds:0.###}s");
        }
        catch (OutOfMemoryException e) when (Fatal is not null)
        {
            Fatal.Now($"job {job.Id} {job.Type} ran out of memory ({e.Message.ReplaceLineEndings(" ")})");
            throw;
        }
        catch (Exception e)
        {
            outcome = JobOutcome.RetryLater(e.GetType().Name + ": " + e.Message);
        }
        return outcome.Kind switch
        {
            OutcomeKind.Succeeded => new Settlement(SettleKind.Done, job.Id, job.Token, outcome.Result ?? "", 0),
            OutcomeKind.Failed => new Settlement(SettleKind.Dead, job.Id, job.Token, outcome.Error ?? "failed", 0),
            // take.lua applies the same rule, so a settlement built elsewhere cannot retry past the limit either.
            _ when job.Attempt >= job.MaxAttempts => new Settlement(SettleKind.Dead, job.Id, job.Token,
                $"attempts exhausted ({job.Attempt}): {outcome.Error ?? "retry"}", 0),
            _ => new Settlement(SettleKind.Retry, job.Id, job.Token, outcome.Error ?? "retry",
                (long)RetryPolicy.Delay(job.Attempt, _random, outcome.RetryAfter).TotalMilliseconds),
        };
    }
}
