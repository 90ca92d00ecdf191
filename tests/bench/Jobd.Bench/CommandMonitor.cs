// Counts the commands clients send to Redis, from MONITOR. INFO's total_commands_processed also counts every
// redis.call inside a script (one EVALSHA of take.lua is ~15 "commands" there), so it cannot tell what a worker
// sends; MONITOR tags script calls "lua" and names each sender's address, so those are left out here.
using System;
using System.Collections.Generic;
using System.Threading;

namespace Jobd.Bench;

internal sealed class CommandMonitor : IDisposable
{
    private readonly MiniRedis _conn;
    private readonly HashSet<string> _ignored;
    private readonly Dictionary<string, int> _byCommand = new(StringComparer.OrdinalIgnoreCase);
    private readonly Thread _reader;
    private volatile bool _counting;
    private int _count;

    /// <param name="ignored">Client addresses (ip:port) whose commands are not counted: the bench's own.</param>
    public CommandMonitor(int port, params MiniRedis[] ignored)
    {
        _ignored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in ignored) _ignored.Add(m.LocalAddress);
        _conn = new MiniRedis(port, readTimeoutMs: 0);
        if (_conn.Call("MONITOR") as string != "OK") throw new InvalidOperationException("MONITOR refused");
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "bench-monitor" };
        _reader.Start();
    }

    /// <summary>Starts (or restarts) the count; commands seen before are forgotten.</summary>
    public void Start()
    {
        lock (_byCommand) { _count = 0; _byCommand.Clear(); }
        _counting = true;
    }

    /// <summary>
    /// Stops the count and returns it. The MONITOR feed lags the server by the time to deliver its lines, so a PING
    /// of our own is awaited in the feed first: everything the server ran before it has been read.
    /// </summary>
    public (int Count, string Breakdown) Stop(MiniRedis marker)
    {
        string token = "bench-monitor-" + Environment.TickCount64;
        _marker = token;
        marker.Call("ECHO", token);
        while (Volatile.Read(ref _marker) is not null) Thread.Sleep(1);
        _counting = false;
        lock (_byCommand)
        {
            var parts = new List<string>();
            foreach (var (cmd, n) in _byCommand) parts.Add($"{cmd} {n}");
            parts.Sort(StringComparer.Ordinal);
            return (_count, string.Join(", ", parts));
        }
    }

    private string? _marker;

    private void ReadLoop()
    {
        try
        {
            while (true)
            {
                if (_conn.Read() is not string line) continue;
                // 1700000000.123456 [0 127.0.0.1:54321] "EVALSHA" "..." ; scripts: [0 lua]
                int open = line.IndexOf('[');
                int close = open < 0 ? -1 : line.IndexOf(']', open);
                if (close < 0) continue;
                string who = line[(open + 1)..close];
                int space = who.IndexOf(' ');
                string addr = space < 0 ? who : who[(space + 1)..];
                string? marker = Volatile.Read(ref _marker);
                if (marker is not null && line.Contains(marker, StringComparison.Ordinal))
                {
                    Volatile.Write(ref _marker, null);
                    continue;
                }
                if (!_counting || addr == "lua" || _ignored.Contains(addr)) continue;
                int q1 = line.IndexOf('"', close);
                int q2 = q1 < 0 ? -1 : line.IndexOf('"', q1 + 1);
                string cmd = q2 < 0 ? "?" : line[(q1 + 1)..q2];
                lock (_byCommand)
                {
                    _count++;
                    _byCommand[cmd] = _byCommand.TryGetValue(cmd, out int n) ? n + 1 : 1;
                }
            }
        }
        catch (Exception e) when (e is System.IO.IOException or ObjectDisposedException or NotSupportedException or InvalidOperationException)
        {
            // Disposed: the feed ends.
        }
    }

    public void Dispose() => _conn.Dispose();
}
