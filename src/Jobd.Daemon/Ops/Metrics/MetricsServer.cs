using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Ops.Metrics;

/// <summary>
/// The /metrics endpoint: a minimal HTTP/1.1 server on a raw socket (no Kestrel, no HttpListener: neither belongs
/// in a small AOT binary). Duties: 1. accept one connection at a time, asynchronously, so no thread waits on it;
/// 2. read one request head (at most 8 KB) and answer GET /metrics with the text format 0.0.4, anything else
/// with 404 (a malformed request with 400), then close; 3. give every client <see cref="ClientTimeout"/> in all,
/// so a slow or silent client delays only the next scrape, never the execution loop (which shares nothing with
/// this but a few counters). Exits when disposed.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    public static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);
    private const int MaxHead = 8192;

    private readonly Socket _listener;
    private readonly DaemonMetrics _metrics;
    private readonly QueueDepthReader _depths;
    private readonly Log _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private MetricsServer(Socket listener, DaemonMetrics metrics, QueueDepthReader depths, Log log)
    {
        _listener = listener;
        _metrics = metrics;
        _depths = depths;
        _log = log;
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Binds and starts serving; throws <see cref="SocketException"/> when the address cannot be bound.</summary>
    public static MetricsServer Start(IPEndPoint endpoint, DaemonMetrics metrics, QueueDepthReader depths, Log log)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A restart must not fail on the previous process' connections in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(16);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new MetricsServer(socket, metrics, depths, log);
    }

    /// <summary>Starts serving, or logs one error line and returns null (the daemon then exits 78).</summary>
    public static MetricsServer? TryStart(IPEndPoint endpoint, DaemonMetrics metrics, QueueDepthReader depths, Log log)
    {
        try
        {
            var server = Start(endpoint, metrics, depths, log);
            log.Info($"metrics at http://{endpoint}/metrics");
            return server;
        }
        catch (SocketException e)
        {
            log.Error($"cannot listen on JOBD_METRICS_ADDR {endpoint}: {e.SocketErrorCode} ({e.Message})");
            _ = depths.DisposeAsync();
            return null;
        }
    }

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndPoint!;

    private async Task AcceptLoopAsync()
    {
        await Task.Yield();
        bool failing = false;
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                failing = false;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors, say: log once, retry calmly.
                if (!failing) _log.Warn($"metrics endpoint cannot accept connections: {e.SocketErrorCode}; retrying every second");
                failing = true;
                try { await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            using (client)
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                deadline.CancelAfter(ClientTimeout);
                try
                {
                    await ServeAsync(client, deadline.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // A client that left, reset or dawdled: nothing to report, the next scrape gets a fresh try.
                }
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancel)
    {
        var head = new byte[MaxHead];
        int n = 0;
        int end;
        while ((end = HeadEnd(head, n)) < 0)
        {
            if (n == head.Length)
            {
                await RespondAsync(client, 400, "Bad Request", "request head too large\n", cancel).ConfigureAwait(false);
                return;
            }
            int got = await client.ReceiveAsync(head.AsMemory(n), SocketFlags.None, cancel).ConfigureAwait(false);
            if (got == 0) return;
            n += got;
        }
        var line = Encoding.ASCII.GetString(head, 0, Math.Max(0, Array.IndexOf(head, (byte)'\r', 0, end)));
        var parts = line.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await RespondAsync(client, 400, "Bad Request", "malformed request line\n", cancel).ConfigureAwait(false);
            return;
        }
        var path = parts[1];
        int query = path.IndexOf('?');
        if (query >= 0) path = path[..query];
        if (parts[0] != "GET" || path != "/metrics")
        {
            await RespondAsync(client, 404, "Not Found", "not found: jobd serves GET /metrics only\n", cancel).ConfigureAwait(false);
            return;
        }
        var depths = await _depths.ReadAsync(cancel).ConfigureAwait(false);
        var body = _metrics.Render(depths, ProcessMemory.ResidentBytes());
        await RespondAsync(client, 200, "OK", body, cancel, "text/plain; version=0.0.4; charset=utf-8").ConfigureAwait(false);
    }

    private static int HeadEnd(byte[] buffer, int length)
    {
        for (int i = 3; i < length; i++)
            if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r') return i + 1;
        return -1;
    }

    private static async Task RespondAsync(Socket client, int status, string reason, string body, CancellationToken cancel,
        string contentType = "text/plain; charset=utf-8")
    {
        var payload = Encoding.UTF8.GetBytes(body);
        var head = Encoding.ASCII.GetBytes("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + contentType +
            "\r\nContent-Length: " + payload.Length + "\r\nConnection: close\r\n\r\n");
        await SendAllAsync(client, head, cancel).ConfigureAwait(false);
        await SendAllAsync(client, payload, cancel).ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Send);
    }

    private static async Task SendAllAsync(Socket client, byte[] bytes, CancellationToken cancel)
    {
        int sent = 0;
        while (sent < bytes.Length)
            sent += await client.SendAsync(bytes.AsMemory(sent), SocketFlags.None, cancel).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { await _accepting.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
        await _depths.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
