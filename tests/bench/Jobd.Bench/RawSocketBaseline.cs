// The ceiling for any client in this process: PING over a blocking socket, send then receive, nothing else.
// Printed next to jobd.resp so a gap to redis-benchmark can be split into "the runtime" and "the client".
using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Jobd.Bench;

internal static class RawSocketBaseline
{
    private static readonly byte[] Ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();

    public static double Rate(int port, TimeSpan duration)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        var reply = new byte[64];
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            for (int i = 0; i < 1000; i++)
            {
                socket.Send(Ping);
                int got = 0;
                while (got < 7) got += socket.Receive(reply, got, reply.Length - got, SocketFlags.None); // "+PONG\r\n"
            }
            calls += 1000;
        }
        return calls / clock.Elapsed.TotalSeconds;
    }
}
