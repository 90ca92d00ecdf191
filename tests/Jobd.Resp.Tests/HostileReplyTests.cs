// Replies a real server cannot be made to send: the client closes the connection with a clear error, never hangs,
// and never allocates what a length header asks for.
using System;
using System.Text;
using System.Threading.Tasks;
using Jobd.Resp;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class HostileReplyTests
{
    private static RedisOptions At(HostileServer server) =>
        new() { Host = "127.0.0.1", Port = server.Port, CommandTimeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public async Task A600MegabyteBulkHeaderIsRefusedWithoutAllocatingIt()
    {
        await using var server = new HostileServer(Encoding.ASCII.GetBytes("$629145600\r\nabc"));
        await using var c = await RedisConnection.ConnectAsync(At(server));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = await Assert.ThrowsAsync<RedisProtocolException>(async () => await c.PingAsync());
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("629145600", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxReplyBytes", e.Message, StringComparison.Ordinal);
        Assert.True(c.IsBroken);
        Assert.InRange(allocated, 0, 16L * 1024 * 1024);
    }

    [Fact]
    public async Task AHugeArrayHeaderIsRefused()
    {
        await using var server = new HostileServer(Encoding.ASCII.GetBytes("*2147483647\r\n"));
        await using var c = await RedisConnection.ConnectAsync(At(server));
        await Assert.ThrowsAsync<RedisProtocolException>(async () => await c.PingAsync());
    }

    [Fact]
    public async Task ALengthWithinTheLimitGrowsTheBufferOnlyWithTheBytesReceived()
    {
        // Announces 60 MB (under the 64 MiB default), sends 1 KB, closes.
        await using var server = new HostileServer(Encoding.ASCII.GetBytes("$60000000\r\n" + new string('x', 1024)), closeAfter: true);
        await using var c = await RedisConnection.ConnectAsync(At(server));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = await Assert.ThrowsAsync<RedisConnectionException>(async () => await c.PingAsync());
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - before, 0, 16L * 1024 * 1024);
        Assert.Contains("closed the connection", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("%3\r\n", "type byte")]
    [InlineData(":12x\r\n", "not a number")]
    [InlineData("$3\r\nabcde\r\n", "CRLF")]
    public async Task MalformedFramesCloseTheConnection(string reply, string mentions)
    {
        await using var server = new HostileServer(Encoding.ASCII.GetBytes(reply));
        await using var c = await RedisConnection.ConnectAsync(At(server));
        var e = await Assert.ThrowsAsync<RedisProtocolException>(async () => await c.PingAsync());
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
        Assert.True(c.IsBroken);
    }

    [Fact]
    public async Task SilenceEndsAtTheCommandDeadline()
    {
        await using var server = new HostileServer(null);
        await using var c = await RedisConnection.ConnectAsync(At(server) with { CommandTimeout = TimeSpan.FromMilliseconds(200) });
        var e = await Assert.ThrowsAsync<RedisConnectionException>(async () => await c.PingAsync());
        Assert.Contains("no reply from 127.0.0.1:", e.Message, StringComparison.Ordinal);
        Assert.True(c.IsBroken);
    }

    [Fact]
    public async Task ASilentServerEndsTheTlsHandshakeAtTheConnectTimeout()
    {
        await using var server = new HostileServer(null);
        var options = At(server) with { UseTls = true, ConnectTimeout = TimeSpan.FromMilliseconds(300) };
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
        Assert.Contains("no answer within 0.3s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASilentServerEndsTheLoginAtTheConnectTimeout()
    {
        await using var server = new HostileServer(null);
        var options = At(server) with { Password = "hunter2", ConnectTimeout = TimeSpan.FromMilliseconds(300) };
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
        Assert.Contains("no reply from 127.0.0.1:", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListeningIsAConnectionError()
    {
        int port;
        await using (var server = new HostileServer(null)) port = server.Port;
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisConnection.ConnectAsync(new RedisOptions { Host = "127.0.0.1", Port = port }));
        Assert.Contains($"cannot connect to 127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }
}
