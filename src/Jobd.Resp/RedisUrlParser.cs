// Parses redis://, rediss:// and redis+sentinel:// (rediss+sentinel://) URLs into RedisOptions. Duties: scheme, percent-decoded credentials, host
// (IPv6 in brackets), port and database ranges. Never puts the user-info part (password) in an error message.
using System;
using System.Globalization;

namespace Jobd.Resp;

internal static class RedisUrlParser
{
    public static bool TryParse(string? url, out RedisOptions? options, out string? error)
    {
        options = null;
        error = Parse(url, ref options);
        if (error is not null) options = null;
        return error is null;
    }

    private static string? Parse(string? url, ref RedisOptions? options)
    {
        if (string.IsNullOrWhiteSpace(url)) return "Redis URL is empty";
        bool tls, sentinel = false;
        string rest;
        if (url.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)) { tls = false; rest = url[8..]; }
        else if (url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)) { tls = true; rest = url[9..]; }
        else if (url.StartsWith("redis+sentinel://", StringComparison.OrdinalIgnoreCase)) { tls = false; sentinel = true; rest = url[17..]; }
        else if (url.StartsWith("rediss+sentinel://", StringComparison.OrdinalIgnoreCase)) { tls = true; sentinel = true; rest = url[18..]; }
        else return "Redis URL must start with redis://, rediss://, redis+sentinel:// or rediss+sentinel://";

        if (rest.IndexOfAny(['?', '#']) >= 0) return "Redis URL: query strings and fragments are not supported";
        if (rest.IndexOfAny([' ', '\t', '\r', '\n']) >= 0) return "Redis URL contains whitespace";

        // The last '@' separates credentials: a password may itself contain '@' when not percent-encoded.
        string? user = null, password = null;
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            string info = rest[..at];
            rest = rest[(at + 1)..];
            int colon = info.IndexOf(':');
            string rawUser = colon >= 0 ? info[..colon] : info;
            if (!TryDecode(rawUser, out user)) return "Redis URL: the user name is not valid percent-encoding";
            if (colon >= 0 && !TryDecode(info[(colon + 1)..], out password))
                return "Redis URL: the password is not valid percent-encoding";
            if (user is { Length: 0 }) user = null;
            if (colon < 0 && user is not null)
            {
                // redis://secret@host is the common "password only" form (redis-py and redis-cli read it so).
                password = user;
                user = null;
            }
        }

        int slash = rest.IndexOf('/');
        string hostPort = slash >= 0 ? rest[..slash] : rest;
        string path = slash >= 0 ? rest[(slash + 1)..] : "";

        string? master = null;
        RedisEndpoint[]? sentinels = null;
        string host;
        int port;
        if (sentinel)
        {
            // The path names the master (required), then optionally the database: /mymaster or /mymaster/2.
            int next = path.IndexOf('/');
            master = next >= 0 ? path[..next] : path;
            path = next >= 0 ? path[(next + 1)..] : "";
            if (master.Length == 0) return "Redis URL: a sentinel URL needs the master name after the hosts (/mymaster)";
            if (!IsHostName(master)) return "Redis URL: the master name may hold letters, digits, '.', '-' and '_' only";
            string[] parts = hostPort.Split(',');
            sentinels = new RedisEndpoint[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (ParseHostPort(parts[i], RedisOptions.SentinelPortDefault, out host, out port) is { } bad) return bad;
                sentinels[i] = new RedisEndpoint(host, port);
            }
            (host, port) = (sentinels[0].Host, sentinels[0].Port);
        }
        else if (ParseHostPort(hostPort, RedisOptions.PortDefault, out host, out port) is { } bad) return bad;

        int db = 0;
        if (path.Length > 0 && (!IsDigits(path) || !int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out db)
                                || db > RedisOptions.MaxDatabase))
            return $"Redis URL: the database must be a number from 0 to {RedisOptions.MaxDatabase}";

        options = new RedisOptions
        {
            Host = host, Port = port, UseTls = tls, User = user, Password = password, Database = db,
            Sentinels = sentinels, SentinelMaster = master,
        };
        return null;
    }

    private static string? ParseHostPort(string hostPort, int defaultPort, out string host, out int port)
    {
        port = defaultPort;
        string portText = "";
        if (hostPort.StartsWith('['))
        {
            int close = hostPort.IndexOf(']');
            host = "";
            if (close < 0) return "Redis URL: IPv6 address is missing ']'";
            host = hostPort[1..close];
            string after = hostPort[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':') return "Redis URL: unexpected text after the IPv6 address";
                portText = after[1..];
                if (portText.Length == 0) return "Redis URL: the port is empty";
            }
            if (host.Length == 0 || host.IndexOf(':') < 0) return "Redis URL: the bracketed host is not an IPv6 address";
        }
        else
        {
            int colon = hostPort.IndexOf(':');
            if (colon >= 0)
            {
                host = hostPort[..colon];
                portText = hostPort[(colon + 1)..];
                if (portText.Length == 0) return "Redis URL: the port is empty";
            }
            else host = hostPort;
            if (!IsHostName(host)) return host.Length == 0 ? "Redis URL: the host is empty" : "Redis URL: the host is not a valid name or address";
        }
        if (portText.Length > 0 && (!IsDigits(portText) || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port)
                                    || port < 1 || port > 65535))
            return "Redis URL: the port must be a number from 1 to 65535";
        return null;
    }

    private static bool TryDecode(string raw, out string value)
    {
        value = "";
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '%') continue;
            if (i + 2 >= raw.Length || !Uri.IsHexDigit(raw[i + 1]) || !Uri.IsHexDigit(raw[i + 2])) return false;
        }
        value = Uri.UnescapeDataString(raw);
        return true;
    }

    private static bool IsDigits(string s)
    {
        foreach (char c in s)
            if (c < '0' || c > '9') return false;
        return s.Length <= 9;
    }

    private static bool IsHostName(string host)
    {
        if (host.Length == 0 || host.Length > 253) return false;
        foreach (char c in host)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '.' || c == '_')) return false;
        return true;
    }
}
