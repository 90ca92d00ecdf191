// Values of 0 B, 1 B, 64 KiB and 8 MiB round-trip byte for byte (every byte value, CR and LF included).
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisValueSizeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    [InlineData(8 * 1024 * 1024)]
    public async Task BinaryValuesRoundTrip(int size)
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        var value = new byte[size];
        new Random(size).NextBytes(value);
        if (size > 1) value[size / 2] = (byte)'\r';
        using var b = new RedisBatch();

        Assert.True((await c.ExecuteAsync(b.Clear().Begin(3).Arg("SET").Arg("blob"u8).Arg(value))).IsOk);
        Assert.Equal(size, (await c.ExecuteAsync(b.Clear().Begin(2).Arg("STRLEN").Arg("blob"u8))).Integer);
        var back = await c.ExecuteAsync(b.Clear().Begin(2).Arg("GET").Arg("blob"u8));
        Assert.Equal(RedisReplyKind.BulkString, back.Kind);
        Assert.True(value.AsSpan().SequenceEqual(back.Bytes), "value differs after the round trip");

        // Twice in one pipeline: the second reply starts right after the first in the receive buffer.
        var replies = new RedisReply[2];
        await c.ExecutePipelineAsync(b.Clear().Begin(2).Arg("GET").Arg("blob"u8).Begin(2).Arg("GET").Arg("blob"u8), replies);
        Assert.True(value.AsSpan().SequenceEqual(replies[0].Bytes) && value.AsSpan().SequenceEqual(replies[1].Bytes));
    }

    [Fact]
    public async Task AReplyAboveTheLimitClosesTheConnection()
    {
        using var db = await TestRedis.LeaseAsync();
        using (var probe = db.Probe()) probe.Call("SET", "big", new string('x', 4096));
        await using var c = await RedisConnection.ConnectAsync(TestConnections.Options(db) with { MaxReplyBytes = 1024 });
        var e = await Assert.ThrowsAsync<RedisProtocolException>(async () => await c.ExecuteAsync(PreparedCommand.Create("GET", "big")));
        Assert.Contains("MaxReplyBytes", e.Message, StringComparison.Ordinal);
        Assert.True(c.IsBroken);
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await c.PingAsync());
    }

    [Fact]
    public async Task AnArrayOfSmallElementsIsBoundedByTheLimitToo()
    {
        using var db = await TestRedis.LeaseAsync();
        using (var probe = db.Probe())
            for (int i = 0; i < 4; i++) probe.Call("RPUSH", "parts", new string('x', 512));
        using (var probe = db.Probe())
            for (int i = 0; i < 16; i++) probe.Call("RPUSH", "more", new string('x', 8 * 1024));
        await using var c = await RedisConnection.ConnectAsync(TestConnections.Options(db) with { MaxReplyBytes = 1024 });
        // Complete in the first read (2 KB), then larger than the receive buffer (128 KB): refused either way.
        var e = await Assert.ThrowsAsync<RedisProtocolException>(async () => await c.ExecuteAsync(PreparedCommand.Create("LRANGE", "parts", "0", "-1")));
        Assert.Contains("larger than 1024 bytes", e.Message, StringComparison.Ordinal);
        await using var d = await RedisConnection.ConnectAsync(TestConnections.Options(db) with { MaxReplyBytes = 20 * 1024 });
        e = await Assert.ThrowsAsync<RedisProtocolException>(async () => await d.ExecuteAsync(PreparedCommand.Create("LRANGE", "more", "0", "-1")));
        Assert.Contains("larger than 20480 bytes", e.Message, StringComparison.Ordinal);
    }
}
