namespace Jobd.EndToEnd.Tests.Faults;

public enum FaultKind
{
    Kill,
    Stop,
    Cont,
    RedisRestart,
    RedisClientKill,

    /// <summary>A worker ended itself (the stuck-handler or out-of-memory exit): for I3, like a kill.</summary>
    Exit,

    /// <summary>One worker cut off from Redis (the others are not): for I3, like a kill of that worker.</summary>
    Partition,

    /// <summary>The partition ends.</summary>
    Heal,
    Other,
}

/// <summary>A fault the test injected, at the test's wall clock (the same clock the ledger handler reads).</summary>
public readonly record struct FaultEvent(FaultKind Kind, long AtMs, int Pid, string What);
