using System.Net;
using System.Net.Sockets;

namespace Jobd.Testing;

public static class FreePort
{
    /// <summary>A loopback port nobody listens on right now (the kernel's choice for an ephemeral bind).</summary>
    public static int Next()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
