// Reads the error replies that say "not here": MOVED and ASK from a Redis Cluster node (the slot lives elsewhere,
// the command did not run) READONLY from a replica
// and UNBLOCKED from a primary being demoted (a failover: the command did not run).
// Also the key hash slot (CRC16-XMODEM of the {hash tag} mod 16384) so a caller can tell which slot a prefix uses.
using System;
using System.Globalization;
using System.Text;

namespace Jobd.Resp;

/// <summary>MOVED / ASK / READONLY replies and the cluster hash slot of a key. Stateless and thread-safe.</summary>
public static class ClusterRedirect
{
    public const int SlotCount = 16384;

    /// <summary>True for the replies that <see cref="RedisClient"/> follows (MOVED, ASK) or turns into an outage.</summary>
    public static bool IsTopologyReply(RedisServerException e) => e.Is("MOVED") || e.Is("ASK") || IsDemotion(e);

    /// <summary>
    /// The server is no primary any more: READONLY refuses a write on a replica; UNBLOCKED ends a blocking command
    /// when the primary is demoted (Redis 7 unblocks clients as the role changes). Both mean: reconnect elsewhere.
    /// </summary>
    public static bool IsDemotion(RedisServerException e) => e.Is("READONLY") || e.Is("UNBLOCKED");

    /// <summary>Parses the message of MOVED or ASK: "3999 127.0.0.1:6381" (the host may be empty: the node that replied).</summary>
    public static bool TryParseTarget(RedisServerException e, string replyingHost, out int slot, out RedisEndpoint target)
    {
        slot = -1;
        target = default;
        if (!e.Is("MOVED") && !e.Is("ASK")) return false;
        string message = e.ServerMessage;
        int space = message.IndexOf(' ');
        if (space <= 0) return false;
        if (!int.TryParse(message.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out slot) || slot >= SlotCount) return false;
        string address = message[(space + 1)..].Trim();
        int colon = address.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port < 1 || port > 65535) return false;
        string host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        // Redis 7 may announce "?:port" or ":port" when the node does not know its own address: the same host.
        if (host.Length == 0 || host == "?") host = replyingHost;
        target = new RedisEndpoint(host, port);
        return true;
    }

    /// <summary>The cluster slot of a key: only the part inside the first non-empty {…} counts, when there is one.</summary>
    public static int HashSlot(string key)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(key);
        ReadOnlySpan<byte> hashed = bytes;
        int open = hashed.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = hashed[(open + 1)..].IndexOf((byte)'}');
            if (close > 0) hashed = hashed.Slice(open + 1, close);
        }
        return Crc16(hashed) & (SlotCount - 1);
    }

    /// <summary>CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster specifies.</summary>
    internal static int Crc16(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            crc ^= b << 8;
            for (int i = 0; i < 8; i++)
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
        }
        return crc;
    }
}
