using System;
using System.Globalization;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>
/// The producer's WaitForReplicas (RELIABILITY.md R8) against a real primary and replica: confirmed while the
/// replica replicates, NotReplicatedException (with the ids that exist on the primary) while it is stopped.
/// </summary>
public sealed class ReplicaWaitTests
{
    [Fact]
    public async Task Enqueues_are_confirmed_by_a_live_replica_and_refused_confirmation_by_a_stopped_one()
    {
        await using var primary = await RedisServer.StartAsync();
        await using var replica = await RedisServer.StartAsync("--replicaof", primary.Host, primary.Port.ToString(CultureInfo.InvariantCulture),
            "--repl-diskless-sync-delay", "0");
        await replica.WaitForPrimaryLinkAsync();
        RedisOptions.TryParseUrl(primary.Url(), out var options, out _);
        await using var redis = new RedisClient(options!);
        var producer = new JobProducer(redis, new QueueKeys("jobd")) { WaitForReplicas = new ReplicaWait(1, TimeSpan.FromSeconds(5)) };

        var one = await producer.EnqueueAsync(new EnqueueRequest { Type = "t" });
        Assert.True(one.Created);
        var many = await producer.EnqueueManyAsync(new[] { new EnqueueRequest { Type = "t" }, new EnqueueRequest { Type = "t" } });
        Assert.Equal(2, many.Length);

        replica.Process.Signal(ChildProcess.SIGSTOP);
        try
        {
            var stopped = new JobProducer(redis, new QueueKeys("jobd")) { WaitForReplicas = new ReplicaWait(1, TimeSpan.FromMilliseconds(300)) };
            var e = await Assert.ThrowsAsync<NotReplicatedException>(async () => await stopped.EnqueueAsync(new EnqueueRequest { Type = "t" }));
            Assert.Equal(0, e.Acknowledged);
            Assert.StartsWith("only 0 of 1 replica(s) acknowledged the enqueue within 300 ms", e.Message);
            using var p = primary.Probe();
            Assert.Equal("ready", p.Call("HGET", "{jobd}:job:" + e.Results[0].Id, "state")); // on the primary
            var batch = await Assert.ThrowsAsync<NotReplicatedException>(async () =>
                await stopped.EnqueueManyAsync(new[] { new EnqueueRequest { Type = "t" }, new EnqueueRequest { Type = "t" } }));
            Assert.Equal(2, batch.Results.Count);
        }
        finally
        {
            replica.Process.Signal(ChildProcess.SIGCONT);
        }
    }
}
