using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// A real Redis Cluster of masters on loopback (no replicas): each node a throwaway <see cref="RedisServer"/> with
/// cluster mode on, joined with `redis-cli --cluster create`, ready once every node reports cluster_state:ok.
/// Disposal stops each node by its own pid.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly List<RedisServer> _nodes;

    private RedisCluster(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    public static async Task<RedisCluster> StartAsync(int nodeCount = 3)
    {
        var nodes = new List<RedisServer>();
        var cluster = new RedisCluster(nodes);
        try
        {
            for (int i = 0; i < nodeCount; i++)
                nodes.Add(await RedisServer.StartAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000").ConfigureAwait(false));
            var args = new List<string> { "--cluster", "create" };
            foreach (var n in nodes) args.Add(n.Host + ":" + n.Port.ToString(CultureInfo.InvariantCulture));
            args.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
            await using (var create = ChildProcess.Start(ServerBinaries.Find("redis-cli", RedisServer.InstallHint), args))
            {
                int code = await create.WaitForExitAsync(ReadyTimeout).ConfigureAwait(false);
                if (code != 0)
                    throw new InvalidOperationException("redis-cli --cluster create failed (exit " + code + "):\n"
                                                        + string.Join("\n", create.Stdout.Snapshot()) + string.Join("\n", create.Stderr.Snapshot()));
            }
            await cluster.WaitReadyAsync().ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        foreach (var node in _nodes)
        {
            using var probe = node.Probe();
            while (!((string)probe.Call("CLUSTER", "INFO")!).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"cluster node {node.Port} not cluster_state:ok within {ReadyTimeout.TotalSeconds}s");
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The slot of a key, as the cluster computes it (CLUSTER KEYSLOT).</summary>
    public int SlotOf(string key)
    {
        using var probe = _nodes[0].Probe();
        return (int)(long)probe.Call("CLUSTER", "KEYSLOT", key)!;
    }

    /// <summary>The node serving the slot of <paramref name="key"/>, read from CLUSTER SLOTS.</summary>
    public RedisServer OwnerOf(string key)
    {
        int slot = SlotOf(key);
        using var probe = _nodes[0].Probe();
        foreach (object? range in (object?[])probe.Call("CLUSTER", "SLOTS")!)
        {
            var r = (object?[])range!;
            if (slot < (long)r[0]! || slot > (long)r[1]!) continue;
            long port = (long)((object?[])r[2]!)[1]!;
            foreach (var n in _nodes)
                if (n.Port == port) return n;
        }
        throw new InvalidOperationException($"no node serves slot {slot}");
    }

    /// <summary>Any node that does not serve the slot of <paramref name="key"/> (it answers MOVED).</summary>
    public RedisServer NonOwnerOf(string key)
    {
        var owner = OwnerOf(key);
        foreach (var n in _nodes)
            if (!ReferenceEquals(n, owner)) return n;
        throw new InvalidOperationException("a one-node cluster has no other node");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync().ConfigureAwait(false);
    }
}
