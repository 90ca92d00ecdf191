// The server killed and restarted under a pipeline and under a blocking wait, connections killed by the server,
// deadlines and cancellation: the in-flight command fails with a retryable RedisConnectionException, the client
// reconnects, every later reply belongs to its own command, and Up/Down are reported once per change.
using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RedisClientFailureTests
{
    private static RedisOptions Fast(RedisServer server) => TestConnections.Options(server, 1) with
    {
        ReconnectBackoffMin = TimeSpan.FromMilliseconds(5),
        ReconnectBackoffMax = TimeSpan.FromMilliseconds(50),
        ClientName = "failure-test",
    };

    [Fact]
    public async Task ServerRestartDuringAPipeline()
    {
        await using var server = await RedisServer.StartAsync();
        var states = new TestSignal<string>();
        // A long reply deadline: the pipeline's BLPOP must stay blocked until the kill, however slow the probe is.
        await using var client = new RedisClient(Fast(server) with { CommandTimeout = TimeSpan.FromSeconds(60) }, (s, r) => states.Announce(s.ToString()));
        using var b = new RedisBatch();
        // The pipeline ends in a blocking pop, so it is provably in flight on the server when the server dies.
        for (int i = 0; i < 500; i++) b.Begin(2).Arg("INCR").Arg("n"u8);
        b.Begin(3).Arg("BLPOP").Arg("never"u8).Arg(0);
        var replies = new RedisReply[b.Count];
        var pipeline = client.ExecutePipelineAsync(b, replies).AsTask();
        using (var probe = server.Probe(1))
            await TestConnections.UntilAsync(() => TestConnections.BlockedClients(probe) == 1, "the pipeline's BLPOP to block");

        await server.KillAsync();
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => pipeline);
        Assert.True(e.IsRetryable);
        await server.RestartAsync();

        using var check = new RedisBatch();
        check.Begin(3).Arg("SET").Arg("after"u8).Arg("restart").Begin(2).Arg("GET").Arg("after"u8).Begin(2).Arg("INCR").Arg("n"u8);
        var after = new RedisReply[3];
        await client.ExecutePipelineAsync(check, after);
        Assert.True(after[0].IsOk);
        Assert.Equal("restart", TestConnections.Text(after[1]));
        Assert.Equal(1, after[2].Integer); // no persistence: the restarted server starts empty
        Assert.Equal(["Up", "Down", "Up"], states.Snapshot());
    }

    [Fact]
    public async Task ServerRestartDuringABlockingWait()
    {
        await using var server = await RedisServer.StartAsync();
        var states = new TestSignal<string>();
        await using var client = new RedisClient(Fast(server), (s, r) => states.Announce(s + ": " + r));
        var blpop = PreparedCommand.Create("BLPOP", "jobs", "0");
        var waiting = client.ExecuteBlockingAsync(blpop, TimeSpan.Zero).AsTask();
        using (var probe = server.Probe(1))
            await TestConnections.UntilAsync(() => TestConnections.BlockedClients(probe) == 1, "BLPOP to block");

        await server.KillAsync();
        await Assert.ThrowsAsync<RedisConnectionException>(() => waiting);
        await server.RestartAsync();

        var again = client.ExecuteBlockingAsync(blpop, TimeSpan.Zero).AsTask();
        using (var probe = server.Probe(1))
        {
            await TestConnections.UntilAsync(() => TestConnections.BlockedClients(probe) == 1, "BLPOP to block again");
            probe.Call("RPUSH", "jobs", "job-1");
        }
        var popped = await again;
        Assert.Equal(["jobs", "job-1"], Array.ConvertAll(popped.Items!, TestConnections.Text));
        var reported = states.Snapshot();
        Assert.Equal(3, reported.Count);
        Assert.StartsWith("Up: connected to redis://127.0.0.1:", reported[0], StringComparison.Ordinal);
        Assert.StartsWith("Down: ", reported[1], StringComparison.Ordinal);
        Assert.StartsWith("Up: ", reported[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingABlockingWaitDiscardsItsConnection()
    {
        await using var server = await RedisServer.StartAsync();
        var states = new TestSignal<string>();
        await using var client = new RedisClient(Fast(server), (s, r) => states.Announce(s.ToString()));
        using var probe = server.Probe(1);
        var blpop = PreparedCommand.Create("BLPOP", "jobs", "0");
        using var cts = new CancellationTokenSource();
        var waiting = client.ExecuteBlockingAsync(blpop, TimeSpan.Zero, cts.Token).AsTask();
        await TestConnections.UntilAsync(() => TestConnections.BlockedClients(probe) == 1, "BLPOP to block");

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await TestConnections.UntilAsync(() => TestConnections.BlockedClients(probe) == 0, "the server to drop the cancelled BLPOP");
        probe.Call("RPUSH", "jobs", "late-job");

        // The job pushed after the cancellation goes to the next wait, never to the abandoned one.
        var popped = await client.ExecuteBlockingAsync(blpop, TimeSpan.Zero);
        Assert.Equal("late-job", TestConnections.Text(popped.Items![1]));
        Assert.Equal("PONG", TestConnections.Text(await client.PingAsync()));
        Assert.Equal(["Up"], states.Snapshot()); // a cancellation is not an outage
    }

    [Fact]
    public async Task AReplyPastTheDeadlineIsNeverAttributedToTheNextCommand()
    {
        await using var server = await RedisServer.StartAsync();
        var states = new TestSignal<string>();
        await using var client = new RedisClient(Fast(server) with { CommandTimeout = TimeSpan.FromMilliseconds(200) },
            (s, r) => states.Announce(s + ": " + r));
        using var b = new RedisBatch();
        var e = await Assert.ThrowsAsync<RedisConnectionException>(async () =>
            await client.ExecuteAsync(b.Clear().Begin(3).Arg("DEBUG").Arg("SLEEP").Arg("1"))); // answers +OK, one second late
        Assert.Contains("no reply", e.Message, StringComparison.Ordinal);

        var reply = await client.ExecuteAsync(b.Clear().Begin(2).Arg("ECHO").Arg("mine"));
        Assert.Equal("mine", TestConnections.Text(reply));
        var reported = states.Snapshot();
        Assert.Equal(3, reported.Count);
        Assert.Contains("no reply from 127.0.0.1:", reported[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingACommandAwaitingItsReplyDiscardsTheConnection()
    {
        await using var server = await RedisServer.StartAsync();
        await using var c = await RedisConnection.ConnectAsync(TestConnections.Options(server));
        using var cts = new CancellationTokenSource();
        // On another thread: a non-blocking command on plain TCP waits for its reply on the calling thread.
        var sleeping = Task.Run(async () => await c.ExecuteAsync(PreparedCommand.Create("DEBUG", "SLEEP", "1"), cts.Token));
        cts.Cancel(); // before or after the send: either way the reply can never reach a later command
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeping);
        Assert.True(c.IsBroken);
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await c.PingAsync());
        await using var fresh = await RedisConnection.ConnectAsync(TestConnections.Options(server));
        Assert.Equal("mine", TestConnections.Text(await fresh.ExecuteAsync(PreparedCommand.Create("ECHO", "mine"))));
    }

    [Fact]
    public async Task AShortDeadlineAfterALongBlockingOneStillApplies()
    {
        await using var server = await RedisServer.StartAsync();
        await using var c = await RedisConnection.ConnectAsync(TestConnections.Options(server) with { CommandTimeout = TimeSpan.FromMilliseconds(200) });
        using (var probe = server.Probe()) probe.Call("RPUSH", "ready", "x");
        // Answers at once, but its deadline (30 s + margin) was the one scheduled.
        var popped = await c.ExecuteBlockingAsync(PreparedCommand.Create("BLPOP", "ready", "30"), TimeSpan.FromSeconds(30));
        Assert.Equal("x", TestConnections.Text(popped.Items![1]));
        // DEBUG SLEEP answers after three seconds: only a deadline re-scheduled to 200 ms turns that into a failure.
        // Three, not one: on a loaded 2-core CI box the timer callback can wait most of a second for a pool thread.
        var e = await Assert.ThrowsAsync<RedisConnectionException>(async () => await c.ExecuteAsync(PreparedCommand.Create("DEBUG", "SLEEP", "3")));
        Assert.Contains("within 0.2s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionsKilledByTheServerAreReplaced()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Fast(server));
        using var probe = server.Probe(1);
        Assert.Equal("PONG", TestConnections.Text(await client.PingAsync()));
        probe.Call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");

        // The write may still succeed into a dead socket; the read then sees the close. Either way: typed, retryable.
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.PingAsync());
        Assert.Equal("PONG", TestConnections.Text(await client.PingAsync()));
        Assert.Equal(RedisConnectionState.Up, client.State);
    }

    [Fact]
    public async Task RetriesWhileDownAreReportedOnce()
    {
        await using var server = await RedisServer.StartAsync();
        var states = new TestSignal<string>();
        var attempts = new TestSignal<string>();
        await using var client = new RedisClient(Fast(server), (s, r) => states.Announce(s.ToString())) { AttemptFailed = attempts.Announce };
        await client.PingAsync();
        await server.KillAsync();

        await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.PingAsync());
        var reconnecting = client.PingAsync().AsTask();
        int failed = 0;
        await attempts.WaitAsync(_ => ++failed >= 5, TimeSpan.FromSeconds(10), "five refused reconnection attempts");
        await server.RestartAsync();
        Assert.Equal("PONG", TestConnections.Text(await reconnecting));
        Assert.Equal(["Up", "Down", "Up"], states.Snapshot());
    }
}
