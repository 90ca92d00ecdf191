namespace Jobd.EndToEnd.Tests.Faults;

public enum FaultKind
{
    Kill,
    Stop,
    Cont,
    RedisRestart,
    RedisClientKill,
    Other,
}

/// <summary>A fault the test injected, at the test's wall clock (the same clock the ledger handler reads).</summary>
public readonly record struct FaultEvent(FaultKind Kind, long AtMs, int Pid, string What);
