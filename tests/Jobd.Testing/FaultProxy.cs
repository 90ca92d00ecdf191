using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Testing;

public enum ProxyMode
{
    /// <summary>Bytes flow both ways (after the configured latency).</summary>
    Pass,

    /// <summary>Connections stay open and are read, but nothing is forwarded: a peer that went silent.</summary>
    Blackhole,

    /// <summary>Every connection is closed at once with a TCP RST (linger 0), new ones too.</summary>
    Reset,
}

/// <summary>
/// A TCP fault proxy on a loopback port in front of a real server (tc netem is not in this kernel, and no
/// Toxiproxy here): pass, blackhole, reset, and a fixed latency per chunk. Switching mode applies to open
/// connections at once.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(Socket Client, Socket Server)> _pairs = new();
    private readonly object _gate = new();
    private readonly Task _accepting;
    private volatile ProxyMode _mode = ProxyMode.Pass;

    public int Port { get; }
    public int LatencyMs { get; set; }

    /// <summary>The first bytes (up to 16) each client sent on each connection: what it spoke (TLS or plaintext).</summary>
    public TestSignal<byte[]> FirstClientBytes { get; } = new();

    public FaultProxy(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host), port);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public ProxyMode Mode
    {
        get => _mode;
        set
        {
            _mode = value;
            if (value == ProxyMode.Reset) ResetAll();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            if (_mode == ProxyMode.Reset)
            {
                Abort(client);
                continue;
            }
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try { await server.ConnectAsync(_target, _stop.Token).ConfigureAwait(false); }
            catch (Exception)
            {
                Abort(client);
                server.Dispose();
                continue;
            }
            client.NoDelay = true;
            lock (_gate) _pairs.Add((client, server));
            _ = PumpAsync(client, server, FirstClientBytes);
            _ = PumpAsync(server, client, null);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, TestSignal<byte[]>? first)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0) break;
                first?.Announce(buffer.AsSpan(0, Math.Min(n, 16)).ToArray());
                first = null;
                if (_mode == ProxyMode.Blackhole) continue; // swallowed: the sender waits for a reply that never comes
                if (LatencyMs > 0) await Task.Delay(LatencyMs, _stop.Token).ConfigureAwait(false);
                if (_mode != ProxyMode.Pass) break;
                int sent = 0;
                while (sent < n) sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // either side went away, or the proxy stops
        }
        Abort(from);
        Abort(to);
    }

    /// <summary>Closes every open connection with a RST.</summary>
    public void ResetAll()
    {
        List<(Socket, Socket)> pairs;
        lock (_gate)
        {
            pairs = new List<(Socket, Socket)>(_pairs);
            _pairs.Clear();
        }
        foreach (var (c, s) in pairs)
        {
            Abort(c);
            Abort(s);
        }
    }

    private static void Abort(Socket s)
    {
        try
        {
            s.LingerState = new LingerOption(true, 0);
            s.Close();
        }
        catch (Exception)
        {
            // already closed
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        ResetAll();
        try { await _accepting.ConfigureAwait(false); }
        catch (Exception) { }
        _stop.Dispose();
    }
}
