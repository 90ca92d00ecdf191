using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// Plays systemd's side of sd_notify: a Unix datagram socket to pass as NOTIFY_SOCKET. Every datagram is
/// announced, and each "KEY=value" line of it on its own, so tests can await READY=1, STATUS=…, WATCHDOG=1.
/// Bound to a file by default; with <c>abstractName</c>, to a Linux abstract socket, which systemd names with a
/// leading '@' in NOTIFY_SOCKET (it does so when the service runs in another mount namespace).
/// </summary>
public sealed class NotifySocketListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly string _dir;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public NotifySocketListener(bool abstractName = false)
    {
        _dir = Directory.CreateTempSubdirectory("jobd-notify-").FullName;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        if (abstractName)
        {
            // Unique per listener: the directory's random name, which no other listener holds.
            var name = "jobd-test/" + System.IO.Path.GetFileName(_dir);
            SocketPath = "@" + name;
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        }
        else
        {
            SocketPath = System.IO.Path.Combine(_dir, "notify.sock");
            _socket.Bind(new UnixDomainSocketEndPoint(SocketPath));
        }
        _loop = Task.Run(ReceiveLoop);
    }

    /// <summary>The value for NOTIFY_SOCKET: the socket's path, or '@' and its abstract name.</summary>
    public string SocketPath { get; }

    public TestSignal<string> Lines { get; } = new();

    private async Task ReceiveLoop()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            foreach (var line in Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                Lines.Announce(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        try { await _loop.ConfigureAwait(false); }
        catch (ObjectDisposedException) { }
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
