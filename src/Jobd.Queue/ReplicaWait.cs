using System;
using System.Collections.Generic;

namespace Jobd.Queue;

/// <summary>
/// Enqueues confirmed by replicas: after the enqueue, WAIT on the same connection until <paramref name="Replicas"/>
/// replicas have it or <paramref name="Timeout"/> passes. Replication is asynchronous, so a job the primary
/// acknowledged is lost if the primary fails before a replica has it; WAIT closes that window (for the replicas
/// it counts), at the cost of one more round trip per enqueue call.
/// </summary>
public readonly record struct ReplicaWait(int Replicas, TimeSpan Timeout);

/// <summary>
/// Fewer replicas than asked acknowledged an enqueue in time. The jobs exist on the primary (<see cref="Results"/>)
/// and will run if it survives; they are lost if it fails now. Retrying with the same ids is safe.
/// </summary>
public sealed class NotReplicatedException : Exception
{
    public NotReplicatedException(int acknowledged, ReplicaWait wanted, IReadOnlyList<EnqueueResult> results)
        : base($"only {acknowledged} of {wanted.Replicas} replica(s) acknowledged the enqueue within {(long)wanted.Timeout.TotalMilliseconds} ms (WAIT): the job is on the primary but would be lost if it failed now")
    {
        Acknowledged = acknowledged;
        Wanted = wanted;
        Results = results;
    }

    public int Acknowledged { get; }
    public ReplicaWait Wanted { get; }

    /// <summary>What the enqueue itself returned: the ids exist on the primary.</summary>
    public IReadOnlyList<EnqueueResult> Results { get; }
}
