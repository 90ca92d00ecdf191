using System.Threading;

namespace Jobd.Resp;

/// <summary>
/// Counts round trips: one per request frame written (a single command, a pipeline, a connection's handshake, a
/// NOSCRIPT reload), across every connection made with the options that hold it. The numbers PRODUCT.md promises
/// (one round trip per job, a handful per idle minute, a constant number per scheduler tick) are read from it.
/// </summary>
public sealed class RoundTripCounter
{
    private long _count;

    public long Count => Volatile.Read(ref _count);

    internal void Add() => Interlocked.Increment(ref _count);
}
