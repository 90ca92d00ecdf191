// RespParser on hand-written frames: each reply type, "need more bytes" at every prefix, malformed and oversized input.
using System;
using System.Text;
using Jobd.Resp;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RespParserTests
{
    private const long Max = 1024;

    private static RedisReply ReadAll(string frame)
    {
        var bytes = Encoding.UTF8.GetBytes(frame);
        for (int cut = 0; cut < bytes.Length; cut++)
            Assert.False(RespParser.TryMeasure(bytes.AsSpan(0, cut), Max, out _), $"complete at {cut} of {bytes.Length}");
        Assert.True(RespParser.TryRead(bytes, Max, out var reply, out int consumed));
        Assert.Equal(bytes.Length, consumed);
        return reply;
    }

    [Fact]
    public void ReadsEveryReplyType()
    {
        Assert.True(ReadAll("+OK\r\n").IsOk);
        Assert.Equal("hello world", ReadAll("+hello world\r\n").AsString());
        var error = ReadAll("-NOSCRIPT No matching script. Please use EVAL.\r\n");
        Assert.Equal(RedisReplyKind.Error, error.Kind);
        Assert.Equal("NOSCRIPT", error.Error!.Prefix);
        Assert.Equal("No matching script. Please use EVAL.", error.Error.ServerMessage);
        Assert.Equal("ERR", ReadAll("-ERR\r\n").Error!.Prefix);
        Assert.Equal(long.MinValue, ReadAll(":-9223372036854775808\r\n").Integer);
        Assert.Equal(long.MaxValue, ReadAll(":9223372036854775807\r\n").Integer);
        Assert.Equal(0, ReadAll(":0\r\n").Integer);
        Assert.Equal("a\r\nb", ReadAll("$4\r\na\r\nb\r\n").AsString());
        Assert.Empty(ReadAll("$0\r\n\r\n").Bytes!);
        Assert.Equal(RedisReplyKind.Nil, ReadAll("$-1\r\n").Kind);
        Assert.Equal(RedisReplyKind.NilArray, ReadAll("*-1\r\n").Kind);
        Assert.Empty(ReadAll("*0\r\n").Items!);
        var nested = ReadAll("*3\r\n:1\r\n*2\r\n$1\r\nx\r\n*0\r\n$-1\r\n");
        Assert.Equal(3, nested.Items!.Length);
        Assert.Equal(1, nested.Items[0].Integer);
        Assert.Equal("x", nested.Items[1].Items![0].AsString());
        Assert.Empty(nested.Items[1].Items![1].Items!);
        Assert.True(nested.Items[2].IsNil);
    }

    [Fact]
    public void StopsAtTheEndOfTheFirstReply()
    {
        var bytes = Encoding.ASCII.GetBytes(":1\r\n:2\r\n");
        Assert.True(RespParser.TryMeasure(bytes, Max, out int first));
        Assert.Equal(4, first);
    }

    [Fact]
    public void CommonSimpleStringsAreShared()
    {
        var a = ReadAll("+PONG\r\n").Bytes;
        var b = ReadAll("+PONG\r\n").Bytes;
        Assert.Same(a, b);
    }

    [Theory]
    [InlineData("!3\r\nabc\r\n", "type byte")]
    [InlineData("$3\r\nabcd\r\n", "CRLF")]
    [InlineData("$-2\r\n", "length -2")]
    [InlineData("*-5\r\n", "length -5")]
    [InlineData(":12a\r\n", "not a number")]
    [InlineData(":\r\n", "not a number")]
    [InlineData(":-\r\n", "not a number")]
    [InlineData(":+1\r\n", "not a number")]
    [InlineData(":9223372036854775808\r\n", "not a number")]
    [InlineData(":123456789012345678901234\r\n", "number")]
    [InlineData("+OK\rX", "CR not followed by LF")]
    [InlineData("+OK\n", "bare LF")]
    [InlineData("$1\r\nabc", "CRLF")]
    [InlineData("*2\r\n:1\r\n?\r\n", "type byte")]
    public void MalformedInputThrows(string frame, string mentions)
    {
        var e = Assert.Throws<RedisProtocolException>(() => RespParser.TryMeasure(Encoding.ASCII.GetBytes(frame), Max, out _));
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$1025\r\n", "bulk string of 1025")]
    [InlineData("*1025\r\n", "array of 1025")]
    [InlineData("$629145600\r\n", "bulk string of 629145600")]
    public void LengthsAboveTheLimitThrowBeforeAnyPayload(string header, string mentions)
    {
        var e = Assert.Throws<RedisProtocolException>(() => RespParser.TryMeasure(Encoding.ASCII.GetBytes(header), Max, out _));
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxReplyBytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestingDeeperThanTheLimitThrows()
    {
        var sb = new StringBuilder();
        for (int i = 0; i <= RespParser.MaxDepth; i++) sb.Append("*1\r\n");
        sb.Append(":1\r\n");
        Assert.Throws<RedisProtocolException>(() => RespParser.TryMeasure(Encoding.ASCII.GetBytes(sb.ToString()), Max, out _));
    }

    [Fact]
    public void ASimpleStringWithoutEndIsBoundedByTheLimit()
    {
        var bytes = new byte[Max + 10];
        bytes.AsSpan().Fill((byte)'a');
        bytes[0] = (byte)'+';
        Assert.Throws<RedisProtocolException>(() => RespParser.TryMeasure(bytes, Max, out _));
        Assert.False(RespParser.TryMeasure(bytes.AsSpan(0, 100), Max, out _));
    }
}
