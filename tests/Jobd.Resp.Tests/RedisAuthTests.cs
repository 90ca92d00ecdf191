// AUTH at connect: the default user's password, an ACL user, a wrong password, and an ACL user lacking a command;
// refusals before the first connection (a configuration error) and during an outage (a new cause, said once).
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisAuthTests
{
    [Fact]
    public async Task PasswordAndAclUsers()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right-pass");
        using (var admin = new RedisProbe(server.Host, server.Port, 0, "right-pass"))
            admin.Call("ACL", "SETUSER", "reader", "on", ">reader-pass", "~*", "+get", "+ping", "+select", "+client|setname");

        var options = TestConnections.Options(server, 3);
        await using (var c = await RedisConnection.ConnectAsync(options with { Password = "right-pass" }))
            Assert.Equal("PONG", TestConnections.Text(await c.PingAsync()));

        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => RedisConnection.ConnectAsync(options with { Password = "wrong-pass" }));
        Assert.Equal("WRONGPASS", wrong.Prefix);
        Assert.DoesNotContain("wrong-pass", wrong.Message, StringComparison.Ordinal);

        var none = await Assert.ThrowsAsync<RedisServerException>(() => RedisConnection.ConnectAsync(options));
        Assert.Equal("NOAUTH", none.Prefix);

        await using var reader = await RedisConnection.ConnectAsync(options with { User = "reader", Password = "reader-pass", ClientName = "w1" });
        Assert.True((await reader.ExecuteAsync(PreparedCommand.Create("GET", "k"))).IsNil);
        var denied = await Assert.ThrowsAsync<RedisServerException>(async () => await reader.ExecuteAsync(PreparedCommand.Create("SET", "k", "v")));
        Assert.Equal("NOPERM", denied.Prefix);
        Assert.False(reader.IsBroken);
        Assert.Equal("PONG", TestConnections.Text(await reader.PingAsync()));
    }

    [Fact]
    public async Task TheClientReportsARefusedLoginOnceAndKeepsTrying()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right-pass");
        var states = new TestSignal<string>();
        var attempts = new TestSignal<string>();
        var options = TestConnections.Options(server) with
        {
            Password = "wrong-pass",
            ReconnectBackoffMin = TimeSpan.FromMilliseconds(1),
            ReconnectBackoffMax = TimeSpan.FromMilliseconds(5),
        };
        await using var client = new RedisClient(options, (s, reason) => states.Announce(s + ": " + reason)) { AttemptFailed = attempts.Announce };
        using var cts = new System.Threading.CancellationTokenSource();
        var connecting = client.ConnectAsync(cts.Token).AsTask();

        int seen = 0;
        await attempts.WaitAsync(_ => ++seen >= 5, TimeSpan.FromSeconds(10), "five failed attempts");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting);
        var reported = states.Snapshot();
        Assert.Single(reported);
        Assert.StartsWith("Down: WRONGPASS", reported[0], StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", reported[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedBeforeItWasEverUpTheFirstConnectEndsWithTheRefusal()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right-pass");
        var states = new TestSignal<string>();
        var options = TestConnections.Options(server) with { Password = "wrong-pass" };
        await using var client = new RedisClient(options, (s, reason) => states.Announce(s + ": " + reason)) { RefusalEndsFirstConnect = true };
        var e = await Assert.ThrowsAsync<RedisServerException>(async () => await client.ConnectAsync());
        Assert.Equal("WRONGPASS", e.Prefix);
        Assert.Empty(states.Snapshot()); // the caller says it, once: no "down" line before it
    }

    [Fact]
    public async Task ARefusalThatStartsDuringAnOutageIsSaidOnceAsItsCause()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right-pass");
        var states = new TestSignal<string>();
        var causes = new TestSignal<string>();
        var attempts = new TestSignal<string>();
        var options = TestConnections.Options(server) with
        {
            Password = "right-pass",
            ReconnectBackoffMin = TimeSpan.FromMilliseconds(1),
            ReconnectBackoffMax = TimeSpan.FromMilliseconds(5),
        };
        await using var client = new RedisClient(options, (s, reason) => states.Announce(s + ": " + reason))
            { RefusalEndsFirstConnect = true, DownCauseChanged = causes.Announce, AttemptFailed = attempts.Announce };
        await client.PingAsync();
        using (var admin = new RedisProbe(server.Host, server.Port, 0, "right-pass"))
        {
            admin.Call("CONFIG", "SET", "requirepass", "rotated-pass");
            admin.Call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        }
        await Assert.ThrowsAnyAsync<RedisConnectionException>(async () => await client.PingAsync());
        using var cts = new System.Threading.CancellationTokenSource();
        var reconnecting = client.ConnectAsync(cts.Token).AsTask();
        int seen = 0;
        await attempts.WaitAsync(_ => ++seen >= 5, TimeSpan.FromSeconds(10), "five refused attempts");
        using (var admin = new RedisProbe(server.Host, server.Port, 0, "rotated-pass")) admin.Call("CONFIG", "SET", "requirepass", "right-pass");
        await reconnecting;
        var reported = states.Snapshot();
        Assert.Equal(3, reported.Count); // up, down (the connection was closed), up
        Assert.StartsWith("Down: ", reported[1], StringComparison.Ordinal);
        Assert.DoesNotContain("WRONGPASS", reported[1], StringComparison.Ordinal);
        Assert.StartsWith("WRONGPASS", Assert.Single(causes.Snapshot()), StringComparison.Ordinal);
    }
}
