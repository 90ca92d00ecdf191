// RedisClient on a real 3-node Redis Cluster: MOVED followed for single commands, scripts and pipelines when pointed
// at a node that does not serve the slot; ASK answered during a slot migration; each command runs exactly once.
using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisClusterClientTests : IAsyncLifetime
{
    private RedisCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await RedisCluster.StartAsync();
    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private RedisClient ClientAt(RedisServer node, List<string> redirects) =>
        new(TestConnections.Options(node)) { Redirected = redirects.Add };

    [Fact]
    public async Task FollowsMovedForCommandsAndScriptsOnce()
    {
        const string key = "{app}:counter";
        var redirects = new List<string>();
        await using var client = ClientAt(_cluster.NonOwnerOf(key), redirects);
        var incr = PreparedCommand.Create("INCR", key);
        Assert.Equal(1, (await client.ExecuteAsync(incr)).Integer);
        Assert.Single(redirects);
        Assert.StartsWith("MOVED " + _cluster.SlotOf(key) + " ", redirects[0]);
        // The client stays on the owner: no further redirect.
        Assert.Equal(2, (await client.ExecuteAsync(incr)).Integer);
        var script = new RedisScript("return redis.call('INCR', KEYS[1])");
        using var batch = new RedisBatch();
        batch.EvalSha(script, 1, 0).Arg(key);
        Assert.Equal(3, (await client.ExecuteAsync(batch)).Integer);
        Assert.Single(redirects);
        using var owner = _cluster.OwnerOf(key).Probe();
        Assert.Equal("3", owner.Call("GET", key));
    }

    [Fact]
    public async Task FollowsMovedForAPipelineAndKeepsReplyOrder()
    {
        const string key = "{pipe}:list";
        var redirects = new List<string>();
        await using var client = ClientAt(_cluster.NonOwnerOf(key), redirects);
        using var batch = new RedisBatch();
        batch.Add(PreparedCommand.Create("PING"));
        batch.Add(PreparedCommand.Create("RPUSH", key, "a"));
        batch.Add(PreparedCommand.Create("RPUSH", key, "b"));
        batch.Add(PreparedCommand.Create("LLEN", key));
        var replies = new RedisReply[4];
        await client.ExecutePipelineAsync(batch, replies);
        Assert.Equal("PONG", replies[0].AsString());
        Assert.Equal([1L, 2L, 2L], new[] { replies[1].Integer, replies[2].Integer, replies[3].Integer });
        Assert.Single(redirects);
        using var owner = _cluster.OwnerOf(key).Probe();
        Assert.Equal(new object?[] { "a", "b" }, (object?[])owner.Call("LRANGE", key, "0", "-1")!);
    }

    [Fact]
    public async Task AnswersAskDuringASlotMigration()
    {
        const string key = "{moving}:k";
        var source = _cluster.OwnerOf(key);
        var target = _cluster.NonOwnerOf(key);
        string slot = _cluster.SlotOf(key).ToString();
        using (var s = source.Probe())
        using (var t = target.Probe())
        {
            string sourceId = (string)s.Call("CLUSTER", "MYID")!, targetId = (string)t.Call("CLUSTER", "MYID")!;
            t.Call("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
            s.Call("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
        }
        var redirects = new List<string>();
        await using var client = ClientAt(source, redirects);
        // The key is not on the source: it answers ASK, and the client asks the importing node.
        Assert.True((await client.ExecuteAsync(PreparedCommand.Create("SET", key, "v"))).IsOk);
        Assert.Single(redirects);
        Assert.StartsWith("ASK " + slot + " ", redirects[0]);
        using var tp = target.Probe();
        tp.Call("ASKING");
        Assert.Equal("v", tp.Call("GET", key));
    }
}
