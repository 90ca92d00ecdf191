// Every RESP2 reply type from a real redis-server, through RedisConnection: simple string, error, integer, bulk,
// nil bulk, array, nested array, empty array, nil array; plus the database and client name set at connect.
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisConnectionReplyTests
{
    [Fact]
    public async Task EveryReplyType()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();

        Assert.Equal("PONG", TestConnections.Text(await c.PingAsync()));
        Assert.True((await c.ExecuteAsync(b.Clear().Begin(3).Arg("SET").Arg("k"u8).Arg("v"))).IsOk);
        var bulk = await c.ExecuteAsync(b.Clear().Begin(2).Arg("GET").Arg("k"u8));
        Assert.Equal(RedisReplyKind.BulkString, bulk.Kind);
        Assert.Equal("v", TestConnections.Text(bulk));
        Assert.Equal(RedisReplyKind.Nil, (await c.ExecuteAsync(b.Clear().Begin(2).Arg("GET").Arg("missing"u8))).Kind);
        var integer = await c.ExecuteAsync(b.Clear().Begin(3).Arg("INCRBY").Arg("n"u8).Arg(-42));
        Assert.Equal((RedisReplyKind.Integer, -42L), (integer.Kind, integer.Integer));

        await c.ExecuteAsync(b.Clear().Begin(5).Arg("RPUSH").Arg("l"u8).Arg("a").Arg("").Arg("c"));
        var array = await c.ExecuteAsync(b.Clear().Begin(4).Arg("LRANGE").Arg("l"u8).Arg(0).Arg(-1));
        Assert.Equal(["a", "", "c"], Array.ConvertAll(array.Items!, TestConnections.Text));
        Assert.Empty((await c.ExecuteAsync(b.Clear().Begin(4).Arg("LRANGE").Arg("none"u8).Arg(0).Arg(-1))).Items!);

        // BLPOP that times out answers a nil array (*-1) in RESP2.
        var timedOut = await c.ExecuteBlockingAsync(b.Clear().Begin(3).Arg("BLPOP").Arg("none"u8).Arg("0.05"), TimeSpan.FromSeconds(0.05));
        Assert.Equal(RedisReplyKind.NilArray, timedOut.Kind);

        var nested = await c.ExecuteAsync(b.Clear().Begin(3).Arg("EVAL").Arg("return {1, {'x', {}}, 'y'}").Arg(0));
        Assert.Equal(1, nested.Items![0].Integer);
        Assert.Equal("x", TestConnections.Text(nested.Items[1].Items![0]));
        Assert.Empty(nested.Items[1].Items![1].Items!);
    }

    [Fact]
    public async Task ServerErrorsAreTypedAndLeaveTheConnectionUsable()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();
        await c.ExecuteAsync(b.Clear().Begin(3).Arg("SET").Arg("s"u8).Arg("text"));

        var wrongType = await Assert.ThrowsAsync<RedisServerException>(async () => await c.ExecuteAsync(b.Clear().Begin(2).Arg("LPOP").Arg("s"u8)));
        Assert.Equal("WRONGTYPE", wrongType.Prefix);
        Assert.StartsWith("Operation against a key", wrongType.ServerMessage, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<RedisServerException>(async () => await c.ExecuteAsync(PreparedCommand.Create("NOSUCHCOMMAND")));
        Assert.Equal("ERR", unknown.Prefix);
        var scripted = await Assert.ThrowsAsync<RedisServerException>(async () =>
            await c.ExecuteAsync(b.Clear().Begin(3).Arg("EVAL").Arg("return redis.error_reply('BUSY custom')").Arg(0)));
        Assert.Equal("BUSY", scripted.Prefix);

        Assert.False(c.IsBroken);
        Assert.Equal("text", TestConnections.Text(await c.ExecuteAsync(b.Clear().Begin(2).Arg("GET").Arg("s"u8))));
    }

    [Fact]
    public async Task SelectsTheDatabaseAndNamesTheClient()
    {
        using var db = await TestRedis.LeaseAsync();
        var options = TestConnections.Options(db) with { ClientName = "worker-7f3a" };
        await using var c = await RedisConnection.ConnectAsync(options);
        using var b = new RedisBatch();
        await c.ExecuteAsync(b.Clear().Begin(3).Arg("SET").Arg("where"u8).Arg(db.Index));

        using var probe = db.Probe();
        Assert.Equal(db.Index.ToString(), probe.Call("GET", "where"));
        Assert.Equal("worker-7f3a", TestConnections.Text(await c.ExecuteAsync(PreparedCommand.Create("CLIENT", "GETNAME"))));
    }

    [Fact]
    public async Task AConnectionServesOneCallerAtATime()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        var blocked = c.ExecuteBlockingAsync(PreparedCommand.Create("BLPOP", "never", "1"), TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await c.PingAsync());
        Assert.Equal(RedisReplyKind.NilArray, (await blocked).Kind);
        Assert.Equal("PONG", TestConnections.Text(await c.PingAsync()));
    }
}
