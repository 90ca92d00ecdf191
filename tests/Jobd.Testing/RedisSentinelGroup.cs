using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// A primary, one replica and one redis-sentinel (quorum 1) watching master "m" with down-after-milliseconds
/// <see cref="DownAfterMilliseconds"/>. <see cref="Sentinel"/>'s stdout announces +switch-master on a failover.
/// Every process is a child of the test and stopped by its own pid.
/// </summary>
public sealed class RedisSentinelGroup : IAsyncDisposable
{
    public const string MasterName = "m";
    public const int DownAfterMilliseconds = 1000;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private RedisSentinelGroup(RedisServer primary, RedisServer replica, ChildProcess sentinel, int sentinelPort, string dir)
    {
        Primary = primary;
        Replica = replica;
        Sentinel = sentinel;
        SentinelPort = sentinelPort;
        _dir = dir;
    }

    private readonly string _dir;
    public RedisServer Primary { get; }
    public RedisServer Replica { get; }
    public ChildProcess Sentinel { get; }
    public int SentinelPort { get; }

    /// <summary>redis+sentinel:// URL naming the sentinel and the master (and an unreachable sentinel first when asked).</summary>
    public string Url(int database = 0, int? deadSentinelPort = null) =>
        "redis+sentinel://" + (deadSentinelPort is { } dead ? "127.0.0.1:" + dead + "," : "") + "127.0.0.1:" + SentinelPort + "/" + MasterName + "/" + database;

    public static async Task<RedisSentinelGroup> StartAsync()
    {
        RedisServer? primary = null, replica = null;
        try
        {
            primary = await RedisServer.StartAsync("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0").ConfigureAwait(false);
            replica = await RedisServer.StartAsync("--replicaof", primary.Host, primary.Port.ToString(CultureInfo.InvariantCulture),
                "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0").ConfigureAwait(false);
            await WaitLinkUpAsync(replica).ConfigureAwait(false);

            var dir = Directory.CreateTempSubdirectory("jobd-sentinel-").FullName;
            int port = FreePort.Next();
            var conf = Path.Combine(dir, "sentinel.conf");
            File.WriteAllText(conf, string.Join('\n',
                "port " + port, "bind 127.0.0.1", "daemonize no", "dir " + dir, "loglevel notice",
                $"sentinel monitor {MasterName} {primary.Host} {primary.Port} 1",
                $"sentinel down-after-milliseconds {MasterName} {DownAfterMilliseconds}",
                $"sentinel failover-timeout {MasterName} 2000", ""));
            var sentinel = ChildProcess.Start(ServerBinaries.Find("redis-server", RedisServer.InstallHint), [conf, "--sentinel"]);
            var group = new RedisSentinelGroup(primary, replica, sentinel, port, dir);
            try
            {
                // Failover needs a known replica: the sentinel learns it from the primary's INFO.
                await sentinel.Stdout.WaitAsync(l => l.Contains("+slave", StringComparison.Ordinal), ReadyTimeout,
                    "redis-sentinel to discover the replica").ConfigureAwait(false);
                return group;
            }
            catch
            {
                await group.DisposeAsync().ConfigureAwait(false);
                primary = replica = null;
                throw;
            }
        }
        catch
        {
            if (replica is not null) await replica.DisposeAsync().ConfigureAwait(false);
            if (primary is not null) await primary.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task WaitLinkUpAsync(RedisServer replica)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        using var probe = replica.Probe();
        while (!((string)probe.Call("INFO", "replication")!).Contains("master_link_status:up", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("replica did not sync with the primary");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Sentinel.DisposeAsync().ConfigureAwait(false);
        await Replica.DisposeAsync().ConfigureAwait(false);
        await Primary.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
