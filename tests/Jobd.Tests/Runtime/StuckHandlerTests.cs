using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers;
using Jobd.Queue;
using Jobd.Runtime;
using Jobd.Testing;
using Jobd.Tests.Handlers;
using Xunit;

namespace Jobd.Tests.Runtime;

/// <summary>
/// What the stuck-handler guard sees: a job is blamed only when its own handler was cancelled more than the grace
/// ago and has not returned (the exit itself is tested end to end: HandlerFaultTests P9).
/// </summary>
public sealed class StuckHandlerTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_running_job_that_was_never_cancelled_is_not_stuck_however_long_it_runs()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var state = new LoopState(clock);
        Assert.Null(state.IgnoringCancellation(Grace));
        state.Started(HandlerTestJobs.Job(), TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Null(state.IgnoringCancellation(Grace));
    }

    [Fact]
    public void A_cancelled_job_is_stuck_once_the_grace_has_passed_and_no_longer_once_it_returned()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var state = new LoopState(clock);
        var job = HandlerTestJobs.Job();
        state.Started(job, TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        state.HandlerCancelled();
        clock.Advance(Grace);
        Assert.Null(state.IgnoringCancellation(Grace));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Same(job, state.IgnoringCancellation(Grace));
        state.Finished();
        Assert.Null(state.IgnoringCancellation(Grace));
    }

    [Fact]
    public void The_next_job_is_not_blamed_for_its_predecessors_cancellation()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var state = new LoopState(clock);
        state.Started(HandlerTestJobs.Job(), TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        state.HandlerCancelled();
        state.Finished();
        state.Started(HandlerTestJobs.Job(), TimeSpan.FromSeconds(1));
        clock.Advance(Grace * 2);
        Assert.Null(state.IgnoringCancellation(Grace));
    }

    [Fact]
    public async Task The_runner_reports_the_cancellation_of_a_timed_out_handler()
    {
        var state = new LoopState(TimeProvider.System);
        var handlers = new HandlerRegistry().Register("t1", new SleepHandler());
        var runner = new JobRunner(handlers, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1)) { State = state };
        var job = HandlerTestJobs.Job(args: "{\"ms\":5000}");
        state.Started(job, TimeSpan.FromMilliseconds(50));
        var settle = await runner.RunAsync(job, CancellationToken.None, CancellationToken.None);
        Assert.Equal(SettleKind.Retry, settle.Kind);
        Assert.Same(job, state.IgnoringCancellation(TimeSpan.Zero));
    }
}
