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

    /// <param name="user">An ACL user to authenticate as; null: AUTH with the password alone (the default user).</param>
    public RedisProbe(string host, int port, int database = 0, string? password = null, string? user = null)
    {
        _tcp = new TcpClient(host, port) { NoDelay = true };
        _stream = _tcp.GetStream();
        _in = new BufferedStream(_stream, 64 * 1024);
        if (password is not null)
        {
            if (user is null) Call("AUTH", password);
            else Call("AUTH", user, password);
        }
        if (database != 0) Call("SELECT", database.ToString());
    }

    public object? Call(params string[] args)
    {
        var parts = new byte[args.Length][];
        for (int i = 0; i < args.Length; i++) parts[i] = Encoding.UTF8.GetBytes(args[i]);
        return CallBytes(parts);
    }

    /// <summary>A command with binary arguments (invalid UTF-8, a 20 MB value), sent as given.</summary>
    public object? CallBytes(params byte[][] args)
    {
        using var frame = new MemoryStream();
        void Ascii(string s) { var b = Encoding.ASCII.GetBytes(s); frame.Write(b, 0, b.Length); }
        Ascii("*" + args.Length + "\r\n");
        foreach (var a in args)
        {
            Ascii("$" + a.Length + "\r\n");
            frame.Write(a, 0, a.Length);
            Ascii("\r\n");
        }
        _stream.Write(frame.GetBuffer(), 0, (int)frame.Length);
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
