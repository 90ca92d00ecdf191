using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// One redis-server for the whole test run (or the server REDIS_URL names), shared by leasing databases: each
/// lease is a database index nobody else holds, flushed before the test gets it, so parallel tests never meet.
/// </summary>
public static class TestRedis
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Task<(string Host, int Port, string? Password, int Databases)>? _server;
    private static readonly Stack<int> FreeDatabases = new();

    public static async Task<RedisTestDatabase> LeaseAsync()
    {
        var (host, port, password, databases) = await Server().ConfigureAwait(false);
        int index;
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (FreeDatabases.Count == 0 && _next >= databases)
                throw new InvalidOperationException($"test fixture: all {databases} Redis databases are leased; a test does not dispose its lease");
            index = FreeDatabases.Count > 0 ? FreeDatabases.Pop() : _next++;
        }
        finally
        {
            Gate.Release();
        }
        using (var probe = new RedisProbe(host, port, index, password)) probe.Call("FLUSHDB");
        return new RedisTestDatabase(host, port, password, index, Return);
    }

    private static int _next;

    private static void Return(int index)
    {
        Gate.Wait();
        try { FreeDatabases.Push(index); }
        finally { Gate.Release(); }
    }

    private static Task<(string, int, string?, int)> Server()
    {
        lock (FreeDatabases)
            return _server ??= StartOrUseExisting();
    }

    private static async Task<(string, int, string?, int)> StartOrUseExisting()
    {
        var url = Environment.GetEnvironmentVariable("REDIS_URL");
        if (!string.IsNullOrEmpty(url))
        {
            var uri = new Uri(url);
            string? password = uri.UserInfo.Length == 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(uri.UserInfo.IndexOf(':') + 1)..]);
            return (uri.Host, uri.Port > 0 ? uri.Port : 6379, password, 16);
        }
        StaleServers.SweepOnce();
        var server = await RedisServer.StartAsync().ConfigureAwait(false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return (server.Host, server.Port, null, 256);
    }
}

public sealed class RedisTestDatabase : IDisposable
{
    private readonly Action<int> _return;
    private int _disposed;

    internal RedisTestDatabase(string host, int port, string? password, int index, Action<int> @return)
    {
        Host = host;
        Port = port;
        Password = password;
        Index = index;
        _return = @return;
    }

    public string Host { get; }
    public int Port { get; }
    public string? Password { get; }
    public int Index { get; }

    public string Url => Password is null
        ? $"redis://{Host}:{Port}/{Index}"
        : $"redis://:{Uri.EscapeDataString(Password)}@{Host}:{Port}/{Index}";

    public RedisProbe Probe() => new(Host, Port, Index, Password);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _return(Index);
    }
}
