using System;

namespace Jobd.Queue;

/// <summary>A job taken by this worker: what the handler needs, and the token that fences its settlement.</summary>
public sealed class RunningJob
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required string Queue { get; init; }
    public required string ArgsJson { get; init; }
    public required int Attempt { get; init; }
    public required int MaxAttempts { get; init; }

    /// <summary>The job's own timeout, or null for the worker's default.</summary>
    public required long? TimeoutMs { get; init; }

    public required int Recoveries { get; init; }
    public required long EnqueuedAtMs { get; init; }
    public required string Token { get; init; }

    /// <summary>Why the arguments are not acceptable JSON (<see cref="JsonArgs"/>), or null: such a job is not run.</summary>
    public string? ArgsProblem { get; init; }
}

public enum SettleKind
{
    None,
    Done,
    Retry,
    Dead,

    /// <summary>Put back at the front of its queue with the attempt unspent (shutdown before it finished).</summary>
    Requeue,
}

/// <summary>How the previous job ended, carried into the next take so that settling costs no extra round trip.</summary>
public readonly record struct Settlement(SettleKind Kind, string JobId, string Token, string Text, long RetryDelayMs)
{
    public static Settlement Nothing => new(SettleKind.None, "", "", "", 0);
}

public enum SettleResult
{
    NothingToSettle = -1,

    /// <summary>The job had been recovered and taken again under another token: this outcome was not recorded.</summary>
    LeaseLost = 0,

    Applied = 1,
}

/// <summary>
/// Outbox: entries waiting for the result sink, -1 without an outbox. BadQueues: {queue key, Redis error, ...} for
/// queue keys that are not lists (their jobs were parked in the scheduled set); Refused: {id, reason, ...} for due
/// jobs sent to dead because their hash names no valid queue. MoreDue: due jobs still waiting after a full batch
/// moved (0 otherwise).
/// </summary>
public readonly record struct TickResult(int Moved, int Lease, long NextEventMs, string[] Recovered, string[] Buried, long Outbox)
{
    public string[] BadQueues { get; init; } = Array.Empty<string>();
    public string[] Refused { get; init; } = Array.Empty<string>();
    public long MoreDue { get; init; }
}

/// <summary>
/// What one take did. Refused: {id, reason, ...} for jobs sent to dead unread (payload_too_large, malformed_job);
/// BadQueues: {queue key, Redis error, ...} for queue keys that are not lists (skipped); Visited: how many of the
/// worker's queues (in priority order) were looked at; More: stopped after many refusals, take again at once;
/// StaleWakes: nothing was taken and wake tokens left for already-taken jobs were dropped (one may have announced a
/// new earliest delayed job, so the caller should tick); Skipped: {id, state, ...} for queue entries dropped because
/// their job was not ready (an id pushed twice: the job itself is untouched).
/// </summary>
public readonly record struct TakeResult(SettleResult Settled, RunningJob? Job, bool OutboxFull)
{
    public string[] Refused { get; init; } = Array.Empty<string>();
    public string[] BadQueues { get; init; } = Array.Empty<string>();
    public int Visited { get; init; }
    public bool More { get; init; }
    public bool StaleWakes { get; init; }
    public string[] Skipped { get; init; } = Array.Empty<string>();
}
