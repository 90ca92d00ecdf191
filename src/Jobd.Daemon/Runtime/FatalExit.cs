using System;
using System.Runtime.InteropServices;
using Jobd.Cli;
using Jobd.Handlers.Exec;
using Jobd.Ops;

namespace Jobd.Runtime;

/// <summary>
/// Ends the process at once when a handler has made it unfit to go on: one that ignores its cancellation (it may
/// run forever, holding the only execution slot and renewing its lease), or one that ran out of memory (the heap
/// is in no state to trust). Duties, in order: 1. log one error line saying which job and why; 2. SIGKILL every
/// descendant process (exec programs), which would otherwise outlive jobd; 3. give the log a moment to reach its
/// reader; 4. _exit(70) without running any more managed code. The job is settled by nobody: its lease expires
/// and another worker recovers it like the job of a killed worker, and after JOBD_MAX_RECOVERIES such exits it
/// goes dead as worker_lost, so a poison job cannot crash-loop the fleet.
/// </summary>
public sealed partial class FatalExit
{
    private static readonly TimeSpan LogFlush = TimeSpan.FromSeconds(1);
    private readonly Log _log;
    private int _exiting;

    public FatalExit(Log log) => _log = log;

    public void Now(string why)
    {
        // One exit: a second caller (the guard and an out-of-memory handler at once) waits for the first.
        if (System.Threading.Interlocked.Exchange(ref _exiting, 1) != 0)
        {
            System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);
            return;
        }
        _log.Error(why + $"; exiting with code {ExitCodes.Software} so that another worker recovers the job");
        ProcessTree.KillDescendants(Environment.ProcessId);
        _log.Flush(LogFlush);
        SysExit(ExitCodes.Software);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void SysExit(int status);
}
