using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// A throwaway redis-server on a free loopback port with its own data folder. Tests that break a server (kill,
/// restart, flush scripts, pause) start their own; everything else leases a database of <see cref="TestRedis"/>.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string InstallHint = "install it with `apt-get install redis-server` (the README's setup does), or set REDIS_URL to an existing server";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly string _binary;
    private readonly string[] _args;
    public string DataDir { get; }
    public string Host => "127.0.0.1";
    public int Port { get; }
    public ChildProcess Process { get; private set; }

    private RedisServer(string binary, string dataDir, int port, string[] args, ChildProcess process)
    {
        _binary = binary;
        DataDir = dataDir;
        Port = port;
        _args = args;
        Process = process;
    }

    public string Url(int database = 0) => $"redis://{Host}:{Port}/{database}";
    public RedisProbe Probe(int database = 0) => new(Host, Port, database);

    /// <param name="extraArgs">redis-server options such as "--appendonly", "yes", appended to the defaults.</param>
    public static Task<RedisServer> StartAsync(params string[] extraArgs) => StartOnPortAsync(0, extraArgs);

    /// <param name="port">0 for a free port; a fixed one for tests that point a client at it before it runs.</param>
    public static async Task<RedisServer> StartOnPortAsync(int port, params string[] extraArgs)
    {
        var binary = ServerBinaries.Find("redis-server", InstallHint);
        var dir = Directory.CreateTempSubdirectory("jobd-redis-").FullName;
        bool choosePort = port == 0;
        for (int attempt = 1; ; attempt++)
        {
            if (choosePort) port = FreePort.Next();
            var args = new List<string>
            {
                "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no",
                "--save", "", "--appendonly", "no", "--databases", "256", "--loglevel", "notice",
                "--enable-debug-command", "local", "--protected-mode", "yes",
            };
            args.AddRange(extraArgs);
            var process = ChildProcess.Start(binary, args);
            try
            {
                await WaitReadyAsync(process).ConfigureAwait(false);
                return new RedisServer(binary, dir, port, args.ToArray(), process);
            }
            catch (Exception) when (choosePort && attempt < 3)
            {
                await process.DisposeAsync().ConfigureAwait(false); // port taken in between: try another
            }
        }
    }

    private static Task WaitReadyAsync(ChildProcess process) =>
        process.Stdout.WaitAsync(l => l.Contains("Ready to accept connections", StringComparison.Ordinal),
            StartTimeout, "redis-server to accept connections");

    /// <summary>For a server started with --replicaof: waits until its link to the primary is up (the initial sync done).</summary>
    public async Task WaitForPrimaryLinkAsync(string? password = null)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        using var p = new RedisProbe(Host, Port, 0, password);
        while (!((string)p.Call("INFO", "replication")!).Contains("master_link_status:up", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the replica on port {Port} did not reach its primary");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>kill -9: no shutdown save, clients see a reset.</summary>
    public async Task KillAsync()
    {
        Process.Signal(ChildProcess.SIGKILL);
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    /// <summary>Starts the server again on the same port and data folder (so AOF data, if enabled, survives).</summary>
    public async Task RestartAsync()
    {
        if (!Process.HasExited) await KillAsync().ConfigureAwait(false);
        await Process.DisposeAsync().ConfigureAwait(false);
        Process = ChildProcess.Start(_binary, _args);
        await WaitReadyAsync(Process).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(DataDir, recursive: true); }
        catch (IOException) { }
    }
}
