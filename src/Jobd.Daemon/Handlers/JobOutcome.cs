using System;

namespace Jobd.Handlers;

public enum OutcomeKind
{
    Succeeded,

    /// <summary>Try again later (backoff, or <see cref="JobOutcome.RetryAfter"/>), until max attempts.</summary>
    Retry,

    /// <summary>Fail for good: the job goes to dead now.</summary>
    Failed,
}

/// <summary>What a handler returns: expected outcomes are values, not exceptions (STYLE.md).</summary>
public readonly record struct JobOutcome(OutcomeKind Kind, string? Result, string? Error, TimeSpan? RetryAfter)
{
    public static JobOutcome Success(string? resultJson = null) => new(OutcomeKind.Succeeded, resultJson, null, null);
    public static JobOutcome RetryLater(string error, TimeSpan? after = null) => new(OutcomeKind.Retry, null, error, after);
    public static JobOutcome Fail(string error) => new(OutcomeKind.Failed, null, error, null);
}
