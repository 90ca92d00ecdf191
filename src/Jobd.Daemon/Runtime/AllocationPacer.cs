using System;

namespace Jobd.Runtime;

/// <summary>
/// Keeps a busy worker's memory near its idle size. The GC sizes its youngest generation from the CPU cache
/// (about 25 MB on the reference machines), so a worker running jobs flat out touches that much fresh memory
/// between collections, and RSS rises from ~9 MB to ~38 MB. The usual knob (GCgen0size) is ignored by Native AOT,
/// so the loop collects the youngest generation itself once every <see cref="Budget"/> bytes allocated: almost
/// everything a job allocates is garbage by then, so the collection is short, and the same few megabytes are
/// reused instead of new pages being touched.
/// </summary>
public sealed class AllocationPacer
{
    /// <summary>Bytes allocated (all threads) between collections.</summary>
    public const long Budget = 4L << 20;

    private long _next = GC.GetTotalAllocatedBytes() + Budget;

    /// <summary>Called by the loop after each job; costs one read of the GC's allocation counter.</summary>
    public void AfterJob()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated < _next) return;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: false);
        _next = allocated + Budget;
    }
}
