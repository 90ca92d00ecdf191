// RedisOptions.TryParseUrl and the redacted forms: every accepted shape, every rejection, and no password leaks.
using System;
using Jobd.Resp;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisOptionsUrlTests
{
    [Theory]
    [InlineData("redis://localhost", "localhost", 6379, false, null, null, 0)]
    [InlineData("redis://127.0.0.1:6380/3", "127.0.0.1", 6380, false, null, null, 3)]
    [InlineData("rediss://cache.example.com:6390/0", "cache.example.com", 6390, true, null, null, 0)]
    [InlineData("redis://:s3cret@host/2", "host", 6379, false, null, "s3cret", 2)]
    [InlineData("redis://s3cret@host", "host", 6379, false, null, "s3cret", 0)]
    [InlineData("redis://jobd:p%40ss%3Aw%2Fd@host:1/65535", "host", 1, false, "jobd", "p@ss:w/d", 65535)]
    [InlineData("redis://us%20er:pw@host", "host", 6379, false, "us er", "pw", 0)]
    [InlineData("redis://[::1]:7000/1", "::1", 7000, false, null, null, 1)]
    [InlineData("redis://[fe80::1]", "fe80::1", 6379, false, null, null, 0)]
    [InlineData("REDISS://Host/", "Host", 6379, true, null, null, 0)]
    [InlineData("redis://u:p@w@host", "host", 6379, false, "u", "p@w", 0)]
    public void Accepts(string url, string host, int port, bool tls, string? user, string? password, int db)
    {
        Assert.True(RedisOptions.TryParseUrl(url, out var o, out var error), error);
        Assert.Null(error);
        Assert.NotNull(o);
        Assert.Equal((host, port, tls, user, password, db), (o.Host, o.Port, o.UseTls, o.User, o.Password, o.Database));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("http://host", "redis://")]
    [InlineData("host:6379", "redis://")]
    [InlineData("redis://", "host is empty")]
    [InlineData("redis://:pw@", "host is empty")]
    [InlineData("redis://host:0", "port")]
    [InlineData("redis://host:65536", "port")]
    [InlineData("redis://host:abc", "port")]
    [InlineData("redis://host:", "port")]
    [InlineData("redis://host/x", "database")]
    [InlineData("redis://host/-1", "database")]
    [InlineData("redis://host/65536", "database")]
    [InlineData("redis://host/1?timeout=3", "query")]
    [InlineData("redis://ho st", "whitespace")]
    [InlineData("redis://[::1", "]")]
    [InlineData("redis://[::1]x", "IPv6")]
    [InlineData("redis://h$st", "host")]
    public void Rejects(string url, string errorMentions)
    {
        Assert.False(RedisOptions.TryParseUrl(url, out var o, out var error));
        Assert.Null(o);
        Assert.NotNull(error);
        Assert.Contains(errorMentions, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("redis://user:hunter2@host:99999")]
    [InlineData("redis://user:hunter2@/3")]
    [InlineData("redis://user:hunter2%zz@host")]
    [InlineData("redis://hunter2%@host")]
    [InlineData("redis://user:hunter2@host/db?x=hunter2x")]
    [InlineData("ftp://user:hunter2@host")]
    public void ErrorsNeverContainThePassword(string url)
    {
        Assert.False(RedisOptions.TryParseUrl(url, out _, out var error));
        Assert.NotNull(error);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void RedactedAndToStringHideThePassword()
    {
        Assert.True(RedisOptions.TryParseUrl("rediss://jobd:hunter2@[::1]:7000/4", out var o, out _));
        Assert.Equal("rediss://jobd:***@[::1]:7000/4", o!.Redacted());
        Assert.Equal(o.Redacted(), o.ToString());
        Assert.Equal("redis://localhost:6379/0", new RedisOptions().ToString());
        Assert.DoesNotContain("hunter2", $"{o}", StringComparison.Ordinal);
    }

    [Fact]
    public void SecurityWarningOnlyWhenVerificationIsOff()
    {
        var tls = new RedisOptions { UseTls = true };
        Assert.Null(tls.SecurityWarning);
        Assert.Null(new RedisOptions { TlsInsecure = true }.SecurityWarning);
        Assert.Contains("DISABLED", (tls with { TlsInsecure = true }).SecurityWarning, StringComparison.Ordinal);
    }
}
