using System;
using System.Collections.Generic;
using Jobd.Config;
using Xunit;

namespace Jobd.Tests.Config;

/// <summary>REDIS_URL in the redis+sentinel:// form: loaded into the Sentinel options, printed without its password.</summary>
public sealed class SentinelUrlConfigTests
{
    private static Dictionary<string, string> Env(string redisUrl) =>
        new(StringComparer.Ordinal) { ["PATH"] = "/usr/bin", ["HOME"] = "/root", ["REDIS_URL"] = redisUrl };

    [Fact]
    public void A_sentinel_url_loads_and_prints_redacted()
    {
        var env = Env("redis+sentinel://jobd:CANARY@s1:26380,s2/mymaster/2");
        var c = ConfigLoader.Load(env);
        Assert.True(c.Redis.UsesSentinel);
        Assert.Equal("mymaster", c.Redis.SentinelMaster);
        Assert.Equal(2, c.Redis.Sentinels!.Count);
        Assert.Equal(2, c.Redis.Database);
        var printed = ConfigPrinter.Effective(c, env).Find(v => v.Name == "REDIS_URL").Value;
        Assert.Equal("redis+sentinel://jobd:***@s1:26380,s2:26379/mymaster/2", printed);
        Assert.DoesNotContain("CANARY", c.Redis.ToString());
    }

    [Theory]
    [InlineData("redis+sentinel://u:CANARY@s1:26379", "master name")]
    [InlineData("redis+sentinel://u:CANARY@s1:0/m", "port")]
    public void A_bad_sentinel_url_is_refused_in_one_line_without_the_password(string url, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Env(url)));
        Assert.Equal("REDIS_URL", e.Variable);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain("CANARY", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
