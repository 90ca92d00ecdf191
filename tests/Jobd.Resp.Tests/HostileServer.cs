// A fake Redis that answers the first request with whatever bytes a test gives it, to inject what a real server
// never sends: absurd lengths, malformed frames, silence, a reply cut short by a close.
using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace Jobd.Resp.Tests;

internal sealed class HostileServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _serving;
    private Socket? _client;

    /// <param name="reply">Sent after the first bytes of a request arrive; null sends nothing.</param>
    /// <param name="closeAfter">Close the connection once the reply is written.</param>
    public HostileServer(byte[]? reply, bool closeAfter = false)
    {
        _listener.Start();
        _serving = ServeAsync(reply, closeAfter);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task ServeAsync(byte[]? reply, bool closeAfter)
    {
        _client = await _listener.AcceptSocketAsync();
        var request = new byte[4096];
        await _client.ReceiveAsync(request, SocketFlags.None);
        if (reply is not null) await _client.SendAsync(reply, SocketFlags.None);
        if (closeAfter) _client.Shutdown(SocketShutdown.Both);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try { await _serving; }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
        _client?.Dispose();
    }
}
