// Lua scripts by EVALSHA: the SHA matches Redis's, a flushed script cache is refilled once with SCRIPT LOAD and
// the same call retried, in single calls and in pipelines; script errors stay typed.
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisScriptTests
{
    private static readonly RedisScript Add = new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    private static readonly RedisScript Echo = new("return {KEYS[1], ARGV[1], ARGV[2]}");

    [Fact]
    public void TheShaIsTheOneRedisComputes()
    {
        // SCRIPT LOAD "return 1" answers this digest (https://redis.io/commands/script-load/).
        Assert.Equal("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", new RedisScript("return 1").Sha1);
    }

    [Fact]
    public async Task EvalShaSurvivesScriptFlush()
    {
        await using var server = await RedisServer.StartAsync();
        await using var c = await RedisConnection.ConnectAsync(TestConnections.Options(server));
        using var probe = server.Probe();
        using var b = new RedisBatch();

        Assert.Equal(5, (await c.ExecuteAsync(b.Clear().EvalSha(Add, 1, 1).Arg("n"u8).Arg(5))).Integer);
        Assert.Equal(12, (await c.ExecuteAsync(b.Clear().EvalSha(Add, 1, 1).Arg("n"u8).Arg(7))).Integer);
        probe.Call("SCRIPT", "FLUSH");
        Assert.Equal(13, (await c.ExecuteAsync(b.Clear().EvalSha(Add, 1, 1).Arg("n"u8).Arg(1))).Integer);

        // One load for the first NOSCRIPT, one after the flush; the body was never sent with EVAL.
        string stats = (string)probe.Call("INFO", "commandstats")!;
        Assert.Contains("cmdstat_script|load:calls=2,", stats, StringComparison.Ordinal);
        Assert.DoesNotContain("cmdstat_eval:", stats, StringComparison.Ordinal);
        Assert.Contains("cmdstat_evalsha:calls=5,", stats, StringComparison.Ordinal);
        Assert.Equal("13", probe.Call("GET", "n"));
    }

    [Fact]
    public async Task APipelineReloadsEachMissingScriptOnce()
    {
        await using var server = await RedisServer.StartAsync();
        await using var c = await RedisConnection.ConnectAsync(TestConnections.Options(server));
        using var probe = server.Probe();
        using var b = new RedisBatch();
        for (int i = 0; i < 3; i++) b.EvalSha(Add, 1, 1).Arg("n"u8).Arg(1);
        b.Begin(2).Arg("GET").Arg("other"u8);
        b.EvalSha(Echo, 1, 2).Arg("key"u8).Arg("a").Arg("b");
        var replies = new RedisReply[b.Count];

        await c.ExecutePipelineAsync(b, replies);

        Assert.Equal([1L, 2L, 3L], [replies[0].Integer, replies[1].Integer, replies[2].Integer]);
        Assert.True(replies[3].IsNil);
        Assert.Equal(["key", "a", "b"], Array.ConvertAll(replies[4].Items!, TestConnections.Text));
        Assert.Contains("cmdstat_script|load:calls=2,", (string)probe.Call("INFO", "commandstats")!, StringComparison.Ordinal);

        probe.Call("SCRIPT", "FLUSH");
        await c.ExecutePipelineAsync(b, replies);
        Assert.Equal([4L, 5L, 6L], [replies[0].Integer, replies[1].Integer, replies[2].Integer]);
        Assert.Contains("cmdstat_script|load:calls=4,", (string)probe.Call("INFO", "commandstats")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptErrorsAreServerErrors()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var c = await TestConnections.ConnectAsync(db);
        using var b = new RedisBatch();
        var failing = new RedisScript("return redis.error_reply('READONLY pretend replica')");
        var e = await Assert.ThrowsAsync<RedisServerException>(async () => await c.ExecuteAsync(b.Clear().EvalSha(failing, 0, 0)));
        Assert.Equal("READONLY", e.Prefix);
        Assert.Equal("pretend replica", e.ServerMessage);
        Assert.False(c.IsBroken);
    }
}
