using System;
using Jobd.Config;
using Xunit;

namespace Jobd.Tests.Config;

public sealed class ValueParsersTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("7d", 604_800_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData(" 2S ", 2_000)]
    [InlineData("2 s", 2_000)]
    [InlineData("0s", 0)]
    public void Durations_in_every_unit_parse(string text, long ms)
    {
        Assert.True(ValueParsers.TryDuration(text, out var d, out _));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), d);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("30x")]
    [InlineData("-5s")]
    [InlineData("1.2.3s")]
    [InlineData("")]
    [InlineData("5 minutes")]
    [InlineData("5 m s")]
    public void Malformed_durations_name_the_expected_form(string text)
    {
        Assert.False(ValueParsers.TryDuration(text, out _, out var problem));
        Assert.Contains("expected a number with a unit", problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void A_duration_beyond_timespan_is_refused_not_wrapped()
    {
        Assert.False(ValueParsers.TryDuration("99999999999999d", out _, out var problem));
        Assert.Contains("too long", problem);
    }

    [Theory]
    [InlineData("512B", 512)]
    [InlineData("64KB", 64 * 1024)]
    [InlineData("8MB", 8 * 1024 * 1024)]
    [InlineData("1GB", 1L << 30)]
    [InlineData("2mib", 2L << 20)]
    [InlineData("16k", 16 * 1024)]
    public void Sizes_parse_with_binary_units(string text, long bytes)
    {
        Assert.True(ValueParsers.TrySize(text, out var n, out _));
        Assert.Equal(bytes, n);
    }

    [Theory]
    [InlineData("64")]
    [InlineData("KB")]
    [InlineData("1.5MB")]
    [InlineData("-1KB")]
    [InlineData("8TB")]
    public void Malformed_sizes_are_refused(string text)
    {
        Assert.False(ValueParsers.TrySize(text, out _, out var problem));
        Assert.Contains("expected a number with a unit", problem);
    }

    [Fact]
    public void A_size_that_overflows_is_refused()
    {
        Assert.False(ValueParsers.TrySize("99999999999999GB", out _, out var problem));
        Assert.Contains("too large", problem);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("TRUE", true)]
    [InlineData("on", true)]
    [InlineData("yes", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("Off", false)]
    [InlineData("no", false)]
    public void Booleans_accept_the_usual_spellings(string text, bool expected)
    {
        Assert.True(ValueParsers.TryBool(text, out var b, out _));
        Assert.Equal(expected, b);
    }

    [Fact]
    public void Formatting_round_trips_through_parsing()
    {
        foreach (var d in new[] { TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(90), TimeSpan.FromDays(7) })
        {
            Assert.True(ValueParsers.TryDuration(ValueParsers.FormatDuration(d), out var back, out _));
            Assert.Equal(d, back);
        }
        foreach (var n in new[] { 1L, 1023L, 64L << 10, 8L << 20, 1L << 30 })
        {
            Assert.True(ValueParsers.TrySize(ValueParsers.FormatSize(n), out var back, out _));
            Assert.Equal(n, back);
        }
    }

    [Fact]
    public void Quoted_values_cannot_break_the_line()
    {
        var q = ValueText.Quote("a\nb\u001b[31m\"" + new string('x', 100));
        Assert.DoesNotContain('\n', q);
        Assert.DoesNotContain('\u001b', q);
        Assert.Contains("\\u000a", q);
        Assert.EndsWith("…\"", q);
    }
}
