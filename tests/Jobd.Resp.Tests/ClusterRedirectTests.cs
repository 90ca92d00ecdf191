// ClusterRedirect parsing and hash slots, and the redis+sentinel:// URL form (accepted shapes, rejections, redaction).
using Jobd.Resp;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class ClusterRedirectTests
{
    [Theory]
    [InlineData("123456789", 0x31C3)] // the check value of CRC16-XMODEM given in the Redis Cluster specification
    public void Crc16MatchesTheSpecification(string input, int expected) =>
        Assert.Equal(expected, ClusterRedirect.Crc16(System.Text.Encoding.ASCII.GetBytes(input)));

    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("{user1000}.following", 3443)]
    [InlineData("{user1000}.followers", 3443)]
    [InlineData("foo{}{bar}", 8363)] // an empty first tag: the whole key is hashed
    [InlineData("{jobd}:q:default", 1865)]
    public void HashSlotHashesTheTagOnly(string key, int slot) => Assert.Equal(slot, ClusterRedirect.HashSlot(key));

    [Theory]
    [InlineData("MOVED", "3999 127.0.0.1:6381", 3999, "127.0.0.1", 6381)]
    [InlineData("ASK", "3999 10.0.0.2:7000", 3999, "10.0.0.2", 7000)]
    [InlineData("MOVED", "1 :7001", 1, "replying-host", 7001)]
    [InlineData("MOVED", "1 [::1]:7001", 1, "::1", 7001)]
    public void ParsesRedirects(string prefix, string message, int slot, string host, int port)
    {
        Assert.True(ClusterRedirect.TryParseTarget(new RedisServerException(prefix, message), "replying-host", out int s, out var target));
        Assert.Equal((slot, host, port), (s, target.Host, target.Port));
    }

    [Theory]
    [InlineData("MOVED", "x 127.0.0.1:6381")]
    [InlineData("MOVED", "16384 127.0.0.1:6381")]
    [InlineData("MOVED", "12 127.0.0.1")]
    [InlineData("ERR", "12 127.0.0.1:1")]
    public void RejectsMalformedRedirects(string prefix, string message) =>
        Assert.False(ClusterRedirect.TryParseTarget(new RedisServerException(prefix, message), "h", out _, out _));

    [Fact]
    public void ParsesSentinelUrls()
    {
        Assert.True(RedisOptions.TryParseUrl("redis+sentinel://jobd:s3cret@a:1,b,[::1]:3/mymaster/4", out var o, out var error), error);
        Assert.True(o!.UsesSentinel);
        Assert.Equal("mymaster", o.SentinelMaster);
        Assert.Equal([new RedisEndpoint("a", 1), new RedisEndpoint("b", 26379), new RedisEndpoint("::1", 3)], o.Sentinels);
        Assert.Equal(("jobd", "s3cret", 4, false), (o.User, o.Password, o.Database, o.UseTls));
        Assert.Equal("redis+sentinel://jobd:***@a:1,b:26379,[::1]:3/mymaster/4", o.Redacted());
        Assert.DoesNotContain("s3cret", o.ToString());

        Assert.True(RedisOptions.TryParseUrl("rediss+sentinel://h/m", out var tls, out error), error);
        Assert.Equal((true, "m", 0), (tls!.UseTls, tls.SentinelMaster, tls.Database));
        Assert.False(tls.Sentinels is null);
    }

    [Theory]
    [InlineData("redis+sentinel://h", "master name")]
    [InlineData("redis+sentinel://h/", "master name")]
    [InlineData("redis+sentinel://h/m/x", "database")]
    [InlineData("redis+sentinel://h,,g/m", "host is empty")]
    [InlineData("redis+sentinel://h:0/m", "port")]
    [InlineData("redis+sentinel://:pw@h/m a", "whitespace")]
    [InlineData("redis+sentinel://:pw@h/m$", "master name")]
    public void RejectsBadSentinelUrls(string url, string problem)
    {
        Assert.False(RedisOptions.TryParseUrl(url, out _, out var error));
        Assert.Contains(problem, error);
        Assert.DoesNotContain("pw", error);
    }

    [Fact]
    public void ReadsTheSentinelAddressReply()
    {
        var reply = RedisReply.FromArray([RedisReply.Bulk("127.0.0.1"u8.ToArray()), RedisReply.Bulk("6380"u8.ToArray())]);
        Assert.True(SentinelDiscovery.TryReadAddress(reply, out var master));
        Assert.Equal(new RedisEndpoint("127.0.0.1", 6380), master);
        Assert.False(SentinelDiscovery.TryReadAddress(RedisReply.NilArrayReply, out _));
    }
}
