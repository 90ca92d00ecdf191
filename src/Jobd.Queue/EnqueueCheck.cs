using System;
using System.Text;

namespace Jobd.Queue;

/// <summary>
/// Refuses a job before it reaches Redis: names that could not be keys, arguments that are not one acceptable
/// JSON object (<see cref="JsonArgs"/>) or are too large, limits out of range. Each refusal is one line naming the field.
/// </summary>
public static class EnqueueCheck
{
    public const long MaxJobBytesDefault = 1L << 20;
    public const int MaxAttemptsLimit = 1000;
    public static readonly TimeSpan TimeoutLimit = TimeSpan.FromHours(24);

    public static void Validate(EnqueueRequest r, long maxJobBytes)
    {
        if (!Names.IsType(r.Type)) throw new JobRejectedException("type", Names.TypeRule);
        if (!Names.IsQueue(r.Queue)) throw new JobRejectedException("queue", Names.QueueRule);
        if (r.Id is not null && !Names.IsId(r.Id)) throw new JobRejectedException("id", Names.IdRule);
        if (r.UniqueKey is not null && (r.UniqueKey.Length == 0 || Encoding.UTF8.GetByteCount(r.UniqueKey) > Names.UniqueKeyMaxBytes))
            throw new JobRejectedException("unique", $"a uniqueness key is 1-{Names.UniqueKeyMaxBytes} bytes");
        if (r.UniqueTtl < TimeSpan.FromSeconds(1) || r.UniqueTtl > TimeSpan.FromDays(30))
            throw new JobRejectedException("unique ttl", "must be from 1s to 30d");
        if (r.MaxAttempts is { } m && (m < 1 || m > MaxAttemptsLimit))
            throw new JobRejectedException("max attempts", $"must be from 1 to {MaxAttemptsLimit}");
        if (r.Timeout is { } t && (t < TimeSpan.FromMilliseconds(1) || t > TimeoutLimit))
            throw new JobRejectedException("timeout", "must be from 1ms to 24h");
        if (r.Delay is not null && r.RunAt is not null) throw new JobRejectedException("delay", "give a delay or a time to run at, not both");
        if (r.Delay is { } d && d < TimeSpan.Zero) throw new JobRejectedException("delay", "must not be negative");
        if (r.RunAt is { } at && (at.Year < 1970 || at.Year > 9999)) throw new JobRejectedException("run at", "must be between 1970 and 9999");
        CheckArgs(r.ArgsJson, maxJobBytes);
    }

    private static void CheckArgs(string json, long maxJobBytes)
    {
        long bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > maxJobBytes)
            throw new JobRejectedException("args", $"{bytes} bytes exceed the limit of {maxJobBytes} bytes (JOBD_MAX_JOB_BYTES)");
        if (JsonArgs.Problem(Encoding.UTF8.GetBytes(json)) is { } problem) throw new JobRejectedException("args", problem);
    }
}

/// <summary>A job refused before enqueue; the message is one line: "FIELD: what is wrong".</summary>
public sealed class JobRejectedException : Exception
{
    public JobRejectedException(string field, string problem) : base(field + ": " + problem) => Field = field;

    public string Field { get; }
}
