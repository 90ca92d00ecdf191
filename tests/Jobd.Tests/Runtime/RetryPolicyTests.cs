using System;
using Jobd.Runtime;
using Xunit;

namespace Jobd.Tests.Runtime;

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData(1, 16, 36)]
    [InlineData(5, 640, 700)]
    [InlineData(25, 390_640, 390_900)]
    public void Backoff_is_attempt_to_the_fourth_plus_15s_plus_bounded_jitter(int attempt, double minSeconds, double maxSeconds)
    {
        var random = new Random(7);
        for (int i = 0; i < 200; i++)
            Assert.InRange(RetryPolicy.Delay(attempt, random).TotalSeconds, minSeconds, maxSeconds);
    }

    [Fact]
    public void Jitter_spreads_a_batch_of_failures()
    {
        var random = new Random(1);
        var seen = new System.Collections.Generic.HashSet<double>();
        for (int i = 0; i < 100; i++) seen.Add(RetryPolicy.Delay(3, random).TotalSeconds);
        Assert.True(seen.Count >= 8, seen.Count.ToString());
    }

    [Fact]
    public void A_requested_delay_wins_but_is_clamped()
    {
        var random = new Random(1);
        Assert.Equal(TimeSpan.FromSeconds(3), RetryPolicy.Delay(9, random, TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.Zero, RetryPolicy.Delay(1, random, TimeSpan.FromSeconds(-5)));
        Assert.Equal(RetryPolicy.MaxDelay, RetryPolicy.Delay(1, random, TimeSpan.FromDays(3650)));
    }
}
