using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers.Routes;

namespace Jobd.Handlers.Http;

/// <summary>
/// Refuses link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) when http routes
/// connect, unless the host is in JOBD_HTTP_ALLOW. The check runs on the addresses the name resolved to, at
/// connect time, so neither a DNS name pointing there nor a later DNS change (rebinding) gets past it; addresses
/// are connected to in order, the refused ones skipped.
/// </summary>
public static class DestinationGuard
{
    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");

    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] == 169 && b[1] == 254;
        }
        return address.IsIPv6LinkLocal || address.Equals(AwsMetadataV6);
    }

    /// <summary>The SocketsHttpHandler.ConnectCallback of the http routes' client.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(string[]? allow) =>
        (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allow, cancellationToken);

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, string[]? allow, CancellationToken cancellationToken)
    {
        var host = endPoint.Host.Trim('[', ']');
        bool allowed = allow is not null && RouteTable.IsAllowed(allow, host);
        var addresses = IPAddress.TryParse(host, out var literal)
            ? new[] { literal }
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        Exception? last = null;
        foreach (var address in addresses)
        {
            if (!allowed && IsForbidden(address))
            {
                last ??= new DestinationRefusedException(host, address);
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, endPoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }
}

/// <summary>A route's host resolved only to refused addresses: the job fails for good (a retry reaches the same).</summary>
public sealed class DestinationRefusedException : IOException
{
    public DestinationRefusedException(string host, IPAddress address)
        : base(host + " is " + (host == address.ToString() ? "" : "at " + address + ", ")
               + "a link-local or cloud metadata address, refused unless the host is in JOBD_HTTP_ALLOW")
    {
    }
}
