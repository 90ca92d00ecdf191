// Test helpers: options pointing at fixture servers, and awaiting a server-side condition with a deadline.
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;

namespace Jobd.Resp.Tests;

internal static class TestConnections
{
    public static RedisOptions Options(RedisTestDatabase db) =>
        new() { Host = db.Host, Port = db.Port, Database = db.Index, Password = db.Password };

    public static RedisOptions Options(RedisServer server, int database = 0) =>
        new() { Host = server.Host, Port = server.Port, Database = database };

    public static Task<RedisConnection> ConnectAsync(RedisTestDatabase db) => RedisConnection.ConnectAsync(Options(db));

    /// <summary>Polls a condition the server exposes (INFO, CLIENT LIST) until it holds; fails after the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, double timeoutSeconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {timeoutSeconds}s for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>blocked_clients from INFO clients: how many clients wait in BLPOP/BLMOVE right now.</summary>
    public static long BlockedClients(RedisProbe probe)
    {
        var info = (string)probe.Call("INFO", "clients")!;
        foreach (var line in info.Split("\r\n"))
            if (line.StartsWith("blocked_clients:", StringComparison.Ordinal)) return long.Parse(line["blocked_clients:".Length..]);
        throw new InvalidOperationException("INFO clients has no blocked_clients line");
    }

    public static string Text(RedisReply reply) => reply.AsString() ?? "(nil)";
}
