using System.Globalization;
using System.Net;

namespace Jobd.Ops.Metrics;

/// <summary>
/// JOBD_METRICS_ADDR: "host:port" where host is an IP address ("127.0.0.1", "0.0.0.0", "[::1]", "[::]") or
/// "localhost", and port 1-65535. No name lookup: a metrics endpoint bound to whatever a name resolves to at
/// start-up would be a surprise.
/// </summary>
public static class MetricsAddress
{
    public const string Form = "host:port with an IP address or localhost, e.g. 127.0.0.1:9187 or [::]:9187";

    public static bool TryParse(string text, out IPEndPoint? endpoint, out string problem)
    {
        endpoint = null;
        problem = "";
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            problem = "no host:port";
            return false;
        }
        var host = text[..colon];
        var portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            problem = "the port must be 1-65535";
            return false;
        }
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':'))
        {
            problem = "an IPv6 address must be in brackets";
            return false;
        }
        if (host == "localhost")
        {
            endpoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }
        if (!IPAddress.TryParse(host, out var ip) || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host.Split('.').Length != 4))
        {
            problem = "the host is not an IP address";
            return false;
        }
        endpoint = new IPEndPoint(ip, port);
        return true;
    }

    /// <summary>"127.0.0.1:9187", "[::1]:9187": as the address is written in JOBD_METRICS_ADDR.</summary>
    public static string Format(IPEndPoint endpoint) => endpoint.ToString();
}
