// Pipelines from 1 to 10,000 commands: one write, one reply per command, in order; errors stay per command.
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisPipelineTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(10_000)]
    public async Task RepliesComeBackInOrder(int count)
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();
        var incr = PreparedCommand.Create("INCR", "counter");
        for (int i = 0; i < count; i++)
        {
            if (i % 2 == 0) b.Add(incr);
            else b.Begin(3).Arg("SET").Arg("k:" + i).Arg(i);
        }
        var replies = new RedisReply[count];
        await c.ExecutePipelineAsync(b, replies);

        for (int i = 0; i < count; i++)
        {
            if (i % 2 == 0) Assert.Equal(i / 2 + 1, replies[i].Integer);
            else Assert.True(replies[i].IsOk, $"reply {i}: {replies[i]}");
        }
        using var probe = db.Probe();
        Assert.Equal(((count + 1) / 2).ToString(), probe.Call("GET", "counter"));
    }

    [Fact]
    public async Task AnErrorInThePipelineIsThatCommandsReplyOnly()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();
        b.Begin(3).Arg("SET").Arg("s"u8).Arg("x").Begin(2).Arg("INCR").Arg("s"u8).Begin(2).Arg("GET").Arg("s"u8);
        var replies = new RedisReply[3];
        await c.ExecutePipelineAsync(b, replies);
        Assert.True(replies[0].IsOk);
        Assert.Equal("ERR", replies[1].Error!.Prefix);
        Assert.Throws<RedisServerException>(() => replies[1].ThrowIfError());
        Assert.Equal("x", TestConnections.Text(replies[2]));
    }

    [Fact]
    public async Task IncompleteCommandsAreRefusedBeforeSending()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();
        b.Begin(3).Arg("SET").Arg("k"u8);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await c.ExecutePipelineAsync(b, new RedisReply[1]));
        Assert.Throws<InvalidOperationException>(() => b.Begin(1));
        Assert.Throws<InvalidOperationException>(() => b.Clear().Arg("x"));
        Assert.False(c.IsBroken);
    }

    [Fact]
    public async Task APreparedPrefixTakesExtraArguments()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();
        var zadd = PreparedCommand.Create("ZADD"u8.ToArray(), "{q}:sched"u8.ToArray());
        b.Begin(zadd, 2).Arg(5).Arg("job-1").Begin(zadd, 4).Arg(7).Arg("job-2").Arg(6).Arg("job-3");
        var replies = new RedisReply[2];
        await c.ExecutePipelineAsync(b, replies);
        Assert.Equal((1L, 2L), (replies[0].Integer, replies[1].Integer));
        var order = await c.ExecuteAsync(PreparedCommand.Create("ZRANGE", "{q}:sched", "0", "-1"));
        Assert.Equal(["job-1", "job-3", "job-2"], Array.ConvertAll(order.Items!, TestConnections.Text));
    }
}
