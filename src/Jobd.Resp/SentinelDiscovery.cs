// Finds the current primary through Redis Sentinel: ask each sentinel in turn for the master's address
// (SENTINEL get-master-addr-by-name), connect there, and check with ROLE that it really is a master (a sentinel may
// still name a primary that has just been demoted). Anything short of a verified master is an outage: the caller
// (RedisClient) backs off and asks again, so a failover is followed as soon as a sentinel reports the new primary.
// Runs at connect time only, never per command.
using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

internal static class SentinelDiscovery
{
    private static readonly PreparedCommand Role = PreparedCommand.Create("ROLE");

    /// <summary>A handshaken connection to the master the sentinels name, verified with ROLE. One pass, no retry.</summary>
    public static async Task<RedisConnection> ConnectMasterAsync(RedisOptions options, CancellationToken cancellationToken)
    {
        var master = await AskSentinelsAsync(options, cancellationToken).ConfigureAwait(false);
        var target = options with { Host = master.Host, Port = master.Port, Sentinels = null, SentinelMaster = null };
        var connection = await RedisConnection.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
        try
        {
            var role = await connection.ExecuteAsync(Role, cancellationToken).ConfigureAwait(false);
            string? name = role.Items is { Length: > 0 } items ? items[0].AsString() : null;
            if (!string.Equals(name, "master", StringComparison.Ordinal))
                throw new RedisConnectionException($"sentinels name {master} as master {options.SentinelMaster}, but its ROLE is {name ?? "unknown"}; asking again");
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The first address a sentinel gives for the master; throws RedisConnectionException when none does.</summary>
    public static async Task<RedisEndpoint> AskSentinelsAsync(RedisOptions options, CancellationToken cancellationToken)
    {
        var ask = PreparedCommand.Create("SENTINEL", "get-master-addr-by-name", options.SentinelMaster!);
        string? lastProblem = null;
        foreach (var sentinel in options.Sentinels!)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Sentinels are asked without the data nodes' credentials, database or client name.
            var sentinelOptions = options with
            {
                Host = sentinel.Host, Port = sentinel.Port, User = null, Password = null, Database = 0, ClientName = null,
                Sentinels = null, SentinelMaster = null,
            };
            try
            {
                await using var connection = await RedisConnection.ConnectAsync(sentinelOptions, cancellationToken).ConfigureAwait(false);
                var reply = await connection.ExecuteAsync(ask, cancellationToken).ConfigureAwait(false);
                if (TryReadAddress(reply, out var master)) return master;
                lastProblem = $"sentinel {sentinel} does not know master {options.SentinelMaster}";
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException && !cancellationToken.IsCancellationRequested)
            {
                lastProblem = $"sentinel {sentinel}: {e.Message}";
            }
        }
        throw new RedisConnectionException($"no sentinel named a master for {options.SentinelMaster} ({lastProblem})");
    }

    internal static bool TryReadAddress(in RedisReply reply, out RedisEndpoint master)
    {
        master = default;
        if (reply.Items is not { Length: 2 } items || items[0].Bytes is not { } host || items[1].Bytes is not { } portBytes) return false;
        if (!int.TryParse(Encoding.ASCII.GetString(portBytes), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535 || host.Length == 0) return false;
        master = new RedisEndpoint(Encoding.UTF8.GetString(host), port);
        return true;
    }
}
