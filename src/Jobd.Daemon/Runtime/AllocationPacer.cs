using System;
using System.Threading;

namespace Jobd.Runtime;

/// <summary>
/// Keeps a busy worker's memory near its idle size. The GC sizes its youngest generation from the CPU cache
/// (about 25 MB on the reference machines), so a worker running jobs flat out touches that much fresh memory
/// between collections, and RSS rises from ~9 MB to ~38 MB. The usual knob (GCgen0size) is ignored by Native AOT,
/// so the execution loop (after each job) and the result sink (after each batch) collect the young generations
/// (0 and 1) once every <see cref="Budget"/> bytes allocated by the process: almost everything a job or a batch allocates is
/// garbage by then, so the collection is short, and the same few megabytes are reused instead of new pages being
/// touched. Process-wide, like the GC it paces.
/// </summary>
public static class AllocationPacer
{
    /// <summary>Bytes allocated (all threads) between collections.</summary>
    public const long Budget = 4L << 20;

    private static long _next = Budget;

    /// <summary>Costs one read of the GC's allocation counter when nothing is due.</summary>
    public static void Check()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        long next = Volatile.Read(ref _next);
        if (allocated < next) return;
        // One caller collects; a concurrent one sees the new threshold and returns.
        if (Interlocked.CompareExchange(ref _next, allocated + Budget, next) != next) return;
        GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
