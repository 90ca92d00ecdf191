using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Queue;

namespace Jobd.Handlers;

/// <summary>Runs jobs of one type. The cancellation token fires at the job's timeout and on forced shutdown.</summary>
public interface IJobHandler
{
    ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken);
}

/// <summary>
/// A handler with typed arguments, read with source-generated JSON metadata (no reflection, AOT-safe). Arguments
/// that do not fit the type fail the job for good: retrying would not change them.
/// </summary>
public abstract class JobHandler<TArgs> : IJobHandler
{
    private readonly JsonTypeInfo<TArgs> _args;

    protected JobHandler(JsonTypeInfo<TArgs> args) => _args = args;

    public ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken)
    {
        TArgs? args;
        try
        {
            args = JsonSerializer.Deserialize(job.ArgsJson, _args);
        }
        catch (JsonException e)
        {
            return ValueTask.FromResult(JobOutcome.Fail($"malformed args for {job.Type}: {e.Path} (byte {e.BytePositionInLine + 1})"));
        }
        if (args is null) return ValueTask.FromResult(JobOutcome.Fail("malformed args for " + job.Type + ": null"));
        return RunAsync(args, job, cancellationToken);
    }

    protected abstract ValueTask<JobOutcome> RunAsync(TArgs args, RunningJob job, CancellationToken cancellationToken);
}
