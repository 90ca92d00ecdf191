// RedisClient through Redis Sentinel (a real primary, replica and redis-sentinel): discovery past a dead sentinel,
// a kill -9 failover followed to the promoted replica, and READONLY from a replica turned into an outage.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Jobd.Resp.Tests;

public sealed class RedisSentinelClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RedisSentinelGroup _group = null!;

    public async Task InitializeAsync() => _group = await RedisSentinelGroup.StartAsync();
    public async Task DisposeAsync() => await _group.DisposeAsync();

    [Fact]
    public async Task FollowsAFailoverToThePromotedReplica()
    {
        Assert.True(RedisOptions.TryParseUrl(_group.Url(deadSentinelPort: FreePort.Next()), out var options, out var error), error);
        var states = new List<string>();
        await using var client = new RedisClient(options! with { ConnectTimeout = TimeSpan.FromSeconds(1), CommandTimeout = TimeSpan.FromSeconds(1) },
            (state, reason) => { lock (states) states.Add(state + ": " + reason); });
        var incr = PreparedCommand.Create("INCR", "n");
        Assert.Equal(1, (await client.ExecuteAsync(incr)).Integer);
        Assert.Contains(states, s => s.Contains("serving: 127.0.0.1:" + _group.Primary.Port, StringComparison.Ordinal));

        // Replication is asynchronous: only a write the replica acknowledged (WAIT) is sure to survive the failover.
        Assert.Equal(1, (await client.ExecuteAsync(PreparedCommand.Create("WAIT", "1", "5000"))).Integer);

        var killed = Stopwatch.StartNew();
        var switched = _group.Sentinel.Stdout.WaitAsync(l => l.Contains("+switch-master", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "+switch-master")
            .ContinueWith(_ => killed.Elapsed, TaskScheduler.Default);
        await _group.Primary.KillAsync();
        long value = 0;
        while (value == 0)
        {
            try { value = (await client.ExecuteAsync(incr)).Integer; }
            catch (RedisConnectionException) { } // the outage: the caller retries, as the daemon's loops do
        }
        var followed = killed.Elapsed;
        var announced = await switched;
        output.WriteLine($"kill -9 -> +switch-master {announced.TotalMilliseconds:0} ms; kill -9 -> write accepted by the new primary "
                         + $"{followed.TotalMilliseconds:0} ms; states: {string.Join(" | ", states)}");
        // jobd's share of the documented bound (down-after + 2 s): the sentinel needs down-after + its election, the
        // client then finds the new primary within one backoff step (<= 200 ms) and a connect.
        Assert.True(followed - announced < TimeSpan.FromSeconds(2), $"followed {(followed - announced).TotalMilliseconds:0} ms after +switch-master");
        // The replica was in sync before the kill, so the acknowledged INCR survived the failover.
        Assert.Equal(2, value);
        Assert.Contains(states, s => s.Contains("serving: 127.0.0.1:" + _group.Replica.Port, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReadonlyFromAReplicaIsAnOutageNotAServerError()
    {
        var states = new List<string>();
        await using var client = new RedisClient(TestConnections.Options(_group.Replica), (state, reason) => states.Add(state + ": " + reason));
        var e = await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.ExecuteAsync(PreparedCommand.Create("SET", "k", "v")));
        Assert.Contains("READONLY", e.Message);
        Assert.Equal(RedisConnectionState.Down, client.State);
        Assert.IsType<RedisServerException>(e.InnerException);
    }

    [Fact]
    public async Task A_blocked_command_on_a_primary_being_demoted_is_an_outage()
    {
        await using var other = await RedisServer.StartAsync();
        await using var primary = await RedisServer.StartAsync();
        await using var client = new RedisClient(TestConnections.Options(primary));
        var blocked = client.ExecuteBlockingAsync(PreparedCommand.Create("BLPOP", "wake", "0"), TimeSpan.Zero).AsTask();
        using (var p = primary.Probe())
        {
            await TestConnections.UntilAsync(() => ((string)p.Call("INFO", "clients")!).Contains("blocked_clients:1"), "the BLPOP to block");
            p.Call("REPLICAOF", other.Host, other.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => blocked);
        output.WriteLine(e.Message);
        Assert.Equal(RedisConnectionState.Down, client.State);
    }
}
