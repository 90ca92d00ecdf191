using System;

namespace Jobd.Queue;

/// <summary>One job to enqueue, as a producer describes it. <see cref="EnqueueCheck"/> validates it.</summary>
public sealed class EnqueueRequest
{
    public const string QueueDefault = "default";
    public static readonly TimeSpan UniqueTtlDefault = TimeSpan.FromHours(24);

    public required string Type { get; init; }

    /// <summary>The handler's arguments: a JSON object, stored as given.</summary>
    public string ArgsJson { get; init; } = "{}";

    public string Queue { get; init; } = QueueDefault;

    /// <summary>A new ULID when null. A caller-chosen id makes a retried enqueue safe: the second one fails.</summary>
    public string? Id { get; init; }

    /// <summary>Run this long after Redis' clock at enqueue time. Exclusive with <see cref="RunAt"/>.</summary>
    public TimeSpan? Delay { get; init; }

    public DateTimeOffset? RunAt { get; init; }

    /// <summary>While a job holding this key is pending or running, enqueues with the same key are no-ops.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>How long the uniqueness key may outlive the job's due time if nothing releases it.</summary>
    public TimeSpan UniqueTtl { get; init; } = UniqueTtlDefault;

    /// <summary>1–1000; null for the protocol's default (25).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Up to 24 h; null for the worker's default.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>The outcome of one enqueue: created (ready or scheduled), duplicate, or, in a pipelined batch, refused.</summary>
public readonly record struct EnqueueResult(string Id, bool Created, string State, Jobd.Resp.RedisServerException? Refusal = null)
{
    public bool Duplicate => !Created && Refusal is null;
}
