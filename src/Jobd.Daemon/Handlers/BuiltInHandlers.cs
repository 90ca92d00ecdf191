using System;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Queue;

namespace Jobd.Handlers;

/// <summary>noop: succeeds at once; the benchmark's job.</summary>
public sealed class NoopHandler : IJobHandler
{
    public ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken) => ValueTask.FromResult(JobOutcome.Success());
}

public sealed class SleepArgs
{
    [JsonPropertyName("ms")] public int Ms { get; set; }
}

/// <summary>sleep {"ms": N}: waits N ms (cancellable: a timeout or a forced shutdown ends it).</summary>
public sealed class SleepHandler : JobHandler<SleepArgs>
{
    public SleepHandler() : base(BuiltInJson.Default.SleepArgs) { }

    protected override async ValueTask<JobOutcome> RunAsync(SleepArgs args, RunningJob job, CancellationToken cancellationToken)
    {
        if (args.Ms < 0) return JobOutcome.Fail("sleep: ms must not be negative");
        await Task.Delay(args.Ms, cancellationToken).ConfigureAwait(false);
        return JobOutcome.Success("{\"slept_ms\":" + args.Ms + "}");
    }
}

public sealed class FailArgs
{
    /// <summary>true: fail for good (dead now); false: a retryable failure.</summary>
    [JsonPropertyName("permanent")] public bool Permanent { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }

    /// <summary>With a retryable failure: retry after this many ms instead of the backoff.</summary>
    [JsonPropertyName("retry_after_ms")] public int? RetryAfterMs { get; set; }

    /// <summary>Succeed from this attempt on (to test retries that end well).</summary>
    [JsonPropertyName("succeed_on_attempt")] public int? SucceedOnAttempt { get; set; }
}

/// <summary>fail {"permanent": bool, "message": "...", "retry_after_ms": N, "succeed_on_attempt": N}.</summary>
public sealed class FailHandler : JobHandler<FailArgs>
{
    public FailHandler() : base(BuiltInJson.Default.FailArgs) { }

    protected override ValueTask<JobOutcome> RunAsync(FailArgs args, RunningJob job, CancellationToken cancellationToken)
    {
        if (args.SucceedOnAttempt is { } n && job.Attempt >= n) return ValueTask.FromResult(JobOutcome.Success());
        var message = args.Message ?? "failed as asked";
        return ValueTask.FromResult(args.Permanent
            ? JobOutcome.Fail(message)
            : JobOutcome.RetryLater(message, args.RetryAfterMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null));
    }
}

[JsonSerializable(typeof(SleepArgs))]
[JsonSerializable(typeof(FailArgs))]
[JsonSerializable(typeof(LedgerArgs))]
internal sealed partial class BuiltInJson : JsonSerializerContext
{
}
