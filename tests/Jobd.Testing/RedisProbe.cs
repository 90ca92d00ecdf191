using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Text;

namespace Jobd.Testing;

/// <summary>
/// The fixtures' own tiny, synchronous Redis client, used to seed and inspect servers. It shares no code with
/// jobd's client on purpose: a test oracle must not depend on the code under test.
/// Replies: simple string and bulk as string, integer as long, nil as null, arrays as object?[], errors thrown.
/// </summary>
public sealed class RedisProbe : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly BufferedStream _in;

    public RedisProbe(string host, int port, int database = 0, string? password = null)
    {
        _tcp = new TcpClient(host, port) { NoDelay = true };
        _stream = _tcp.GetStream();
        _in = new BufferedStream(_stream, 64 * 1024);
        if (password is not null) Call("AUTH", password);
        if (database != 0) Call("SELECT", database.ToString());
    }

    public object? Call(params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args)
            sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        _stream.Write(bytes, 0, bytes.Length);
        return Read();
    }

    private object? Read()
    {
        var line = ReadLine();
        var body = line.Substring(1);
        switch (line[0])
        {
            case '+': return body;
            case '-': throw new InvalidOperationException("redis error: " + body);
            case ':': return long.Parse(body);
            case '$':
            {
                int n = int.Parse(body);
                if (n < 0) return null;
                var buf = new byte[n + 2];
                int read = 0;
                while (read < buf.Length)
                {
                    int r = _in.Read(buf, read, buf.Length - read);
                    if (r == 0) throw new EndOfStreamException();
                    read += r;
                }
                return Encoding.UTF8.GetString(buf, 0, n);
            }
            case '*':
            {
                int n = int.Parse(body);
                if (n < 0) return null;
                var items = new object?[n];
                for (int i = 0; i < n; i++) items[i] = Read();
                return items;
            }
            default: throw new InvalidDataException("unexpected reply: " + line);
        }
    }

    private string ReadLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = _in.ReadByte();
            if (b < 0) throw new EndOfStreamException("redis closed the connection");
            if (b == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
            {
                bytes.RemoveAt(bytes.Count - 1);
                return Encoding.UTF8.GetString(bytes.ToArray());
            }
            bytes.Add((byte)b);
        }
    }

    public void Dispose()
    {
        _in.Dispose();
        _tcp.Dispose();
    }
}
