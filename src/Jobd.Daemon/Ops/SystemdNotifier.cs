using System;
using System.Net.Sockets;
using System.Text;

namespace Jobd.Ops;

/// <summary>
/// sd_notify(3) without libsystemd: datagrams of "KEY=value" lines to the Unix socket named by NOTIFY_SOCKET
/// (a path, or an abstract name written with a leading '@'). Without NOTIFY_SOCKET every call is a no-op, so
/// the daemon calls it unconditionally. A failed send is ignored: systemd being gone must not stop jobs.
/// The socket is non-blocking: a receiver that stops reading (a stalled PID 1, a test listener) fills its queue
/// after net.unix.max_dgram_qlen datagrams (10 by default) and a blocking send would then hang the execution
/// loop; a message that does not fit is dropped instead (the next STATUS or WATCHDOG supersedes it).
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    public SystemdNotifier(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket)) return;
        // An abstract socket's name starts with NUL; systemd writes it as '@'.
        var path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        _endpoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
    }

    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public bool Enabled => _socket is not null;

    public void Ready() => Send("READY=1");
    public void Stopping() => Send("STOPPING=1");
    public void Watchdog() => Send("WATCHDOG=1");

    /// <summary>
    /// EXTEND_TIMEOUT_USEC: asks systemd to wait <paramref name="time"/> longer than TimeoutStopSec (or the
    /// current state's timeout) before it kills the service; sent when a stop begins while a job still runs.
    /// </summary>
    public void ExtendTimeout(TimeSpan time) =>
        Send("EXTEND_TIMEOUT_USEC=" + ((long)time.TotalMicroseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A one-line status shown by `systemctl status`; newlines would end the field, so they become spaces.</summary>
    public void Status(string text) => Send("STATUS=" + text.Replace('\n', ' '));

    public void Send(string message)
    {
        if (_socket is null) return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), _endpoint!);
        }
        catch (SocketException)
        {
        }
    }

    public void Dispose() => _socket?.Dispose();
}
