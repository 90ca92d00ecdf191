using System;
using Jobd.Config;

namespace Jobd.Runtime;

/// <summary>
/// The self-kill for a handler that ignores its cancellation (a blocking call that never looks at its token, a
/// busy loop). Cancellation comes at the job's timeout, at the end of the shutdown grace, or on a second signal;
/// a handler still running JOBD_CANCEL_GRACE later will not return in time, if ever, and jobd cannot stop one
/// thread of its own: it exits through <see cref="FatalExit"/>. Checked by the control ticker each time it
/// wakes, which is at least every heartbeat while a job runs, so the exit comes within one heartbeat of the
/// grace.
/// </summary>
public sealed class StuckHandlerGuard
{
    private readonly LoopState _state;
    private readonly TimeSpan _grace;
    private readonly FatalExit _exit;

    public StuckHandlerGuard(LoopState state, TimeSpan grace, FatalExit exit)
    {
        _state = state;
        _grace = grace;
        _exit = exit;
    }

    public void Check()
    {
        if (_state.IgnoringCancellation(_grace) is not { } job) return;
        _exit.Now($"job {job.Id} {job.Type} ignored its cancellation: its handler has not returned {ValueParsers.FormatDuration(_grace)} after it was cancelled (JOBD_CANCEL_GRACE)");
    }
}
