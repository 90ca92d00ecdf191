// A blocking RESP client for the bench's own observations (INFO, HGET, LLEN, SUBSCRIBE): one socket, one call
// at a time, so every command it sends is counted and subtracted from the server's totals.
using System;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Text;

namespace Jobd.Bench;

internal sealed class MiniRedis : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly BufferedStream _in;
    private readonly NetworkStream _out;

    /// <param name="readTimeoutMs">30 s by default, so a hang becomes an error; 0 (none) for a feed like MONITOR.</param>
    public MiniRedis(int port, int readTimeoutMs = 30_000)
    {
        _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true, ReceiveTimeout = readTimeoutMs };
        _out = _tcp.GetStream();
        _in = new BufferedStream(_out, 65536);
        // As Redis prints it: a dual-mode socket reports [::ffff:127.0.0.1]:port.
        var local = (System.Net.IPEndPoint)_tcp.Client.LocalEndPoint!;
        var ip = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
        LocalAddress = ip + ":" + local.Port.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>This connection's ip:port as the server sees it (MONITOR and CLIENT LIST name clients by it).</summary>
    public string LocalAddress { get; }

    /// <summary>Commands this client has sent (to subtract from the server's counters).</summary>
    public long Sent { get; private set; }

    public object? Call(params string[] args)
    {
        Send(args);
        return Read();
    }

    public void Send(params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        _out.Write(bytes, 0, bytes.Length);
        Sent++;
    }

    public long Long(params string[] args) => Call(args) switch
    {
        long l => l,
        string s when s.Length > 0 => long.Parse(s, CultureInfo.InvariantCulture),
        _ => 0,
    };

    /// <summary>One field of INFO (e.g. "total_commands_processed").</summary>
    public string Info(string section, string field)
    {
        var text = (string?)Call("INFO", section) ?? "";
        foreach (var line in text.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line[(field.Length + 1)..];
        return "";
    }

    public object? Read()
    {
        string line = ReadLine();
        char kind = line[0];
        string rest = line[1..];
        switch (kind)
        {
            case '+': return rest;
            case '-': throw new InvalidOperationException("redis: " + rest);
            case ':': return long.Parse(rest, CultureInfo.InvariantCulture);
            case '$':
            {
                int n = int.Parse(rest, CultureInfo.InvariantCulture);
                if (n < 0) return null;
                var buf = new byte[n + 2];
                int got = 0;
                while (got < buf.Length) { int r = _in.Read(buf, got, buf.Length - got); if (r <= 0) throw new EndOfStreamException(); got += r; }
                return Encoding.UTF8.GetString(buf, 0, n);
            }
            case '*':
            {
                int n = int.Parse(rest, CultureInfo.InvariantCulture);
                if (n < 0) return null;
                var items = new object?[n];
                for (int i = 0; i < n; i++) items[i] = Read();
                return items;
            }
            default: throw new InvalidOperationException("redis: unexpected reply " + line);
        }
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = _in.ReadByte();
            if (b < 0) throw new EndOfStreamException("redis closed the connection");
            if (b == '\r') { _in.ReadByte(); return sb.ToString(); }
            sb.Append((char)b);
        }
    }

    public void Dispose() => _tcp.Dispose();
}
