using Jobd.Runtime;
using Xunit;

namespace Jobd.Tests.Runtime;

public sealed class RecycleGuardTests
{
    [Fact]
    public void Max_jobs_requests_a_recycle_once_reached_and_wakes_waiters()
    {
        var guard = new RecycleGuard(maxJobs: 3, maxRssBytes: 0);
        Assert.False(guard.AfterJob(2));
        Assert.False(guard.Token.IsCancellationRequested);
        Assert.True(guard.AfterJob(3));
        Assert.True(guard.Token.IsCancellationRequested);
        Assert.Equal("3 jobs done (JOBD_MAX_JOBS=3)", guard.Reason);
    }

    [Fact]
    public void Memory_above_the_limit_requests_a_recycle_and_the_first_reason_stays()
    {
        long rss = 100L << 20;
        var guard = new RecycleGuard(maxJobs: 1, maxRssBytes: 200L << 20, () => rss);
        guard.CheckMemory();
        Assert.False(guard.Requested);
        rss = 250L << 20;
        guard.CheckMemory();
        Assert.Equal("resident memory 250 MB above JOBD_MAX_RSS_MB=200", guard.Reason);
        guard.AfterJob(5);
        Assert.StartsWith("resident memory", guard.Reason);
    }

    [Fact]
    public void Zero_means_no_limit()
    {
        var guard = new RecycleGuard(0, 0, () => long.MaxValue);
        guard.CheckMemory();
        Assert.False(guard.AfterJob(long.MaxValue));
    }
}
