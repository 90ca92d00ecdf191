using System;
using System.Collections.Generic;
using System.Threading;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Fixtures;

public sealed class ManualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Timers_fire_in_order_inside_advance_and_periodic_ones_repeat()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<string>();
        using var once = clock.CreateTimer(_ => fired.Add("once@" + clock.GetUtcNow().Second), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var every = clock.CreateTimer(_ => fired.Add("every@" + clock.GetUtcNow().Second), null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(new[] { "every@2", "once@3", "every@4" }, fired);
        Assert.Equal(Start.AddSeconds(5), clock.GetUtcNow());
        Assert.Equal(TimeSpan.FromSeconds(5), clock.GetElapsedTime(0));
    }

    [Fact]
    public void A_wall_clock_step_leaves_the_monotonic_clock_alone()
    {
        var clock = new ManualTimeProvider(Start);
        long t0 = clock.GetTimestamp();
        clock.StepWallClock(TimeSpan.FromHours(-1));
        Assert.Equal(Start.AddHours(-1), clock.GetUtcNow());
        Assert.Equal(t0, clock.GetTimestamp());
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void A_disposed_timer_never_fires()
    {
        var clock = new ManualTimeProvider(Start);
        int fired = 0;
        var t = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        t.Dispose();
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, fired);
    }
}
