// The reconnect delay: exponential from ReconnectBackoffMin, capped at ReconnectBackoffMax, jittered into [d/2, d].
using System;
using Jobd.Resp;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisClientBackoffTests
{
    [Fact]
    public void GrowsExponentiallyWithJitterUpToTheCap()
    {
        var client = new RedisClient(new RedisOptions
        {
            ReconnectBackoffMin = TimeSpan.FromMilliseconds(100),
            ReconnectBackoffMax = TimeSpan.FromSeconds(10),
        });
        for (int attempt = 0; attempt < 40; attempt++)
        {
            double full = Math.Min(10_000, 100 * Math.Pow(2, Math.Min(attempt, 30)));
            for (int sample = 0; sample < 50; sample++)
                Assert.InRange(client.Backoff(attempt).TotalMilliseconds, full / 2, full);
        }
    }

    [Fact]
    public void JitterSpreadsTheDelays()
    {
        var client = new RedisClient(new RedisOptions());
        var seen = new System.Collections.Generic.HashSet<double>();
        for (int i = 0; i < 20; i++) seen.Add(client.Backoff(3).TotalMilliseconds);
        Assert.True(seen.Count > 1, "twenty delays were all equal");
    }
}
