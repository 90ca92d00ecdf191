using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Jobd.Config;

/// <summary>
/// DATABASE_URL, parsed: the postgres:// (or postgresql://) URL that Render and Heroku hand out, or a key=value
/// connection string (libpq's space-separated form or Npgsql's semicolon form). Kept as canonical Npgsql
/// keyword/value pairs so the result sink builds its data source from them without parsing again.
/// </summary>
public sealed class DatabaseSettings
{
    public const string Variable = "DATABASE_URL";
    private const string Form = "expected postgres://user:password@host:5432/database?sslmode=require or host=… dbname=… user=… key=value pairs";

    // Lower-case libpq and Npgsql names -> the canonical Npgsql keyword. Only parameters Npgsql honours: a libpq
    // one it would ignore (keepalives_count, tcp_user_timeout, hostaddr, service, gssencmode...) stays an error,
    // so nobody believes a setting is in force when it is not.
    private static readonly Dictionary<string, string> Keywords = new(StringComparer.Ordinal)
    {
        ["host"] = "Host", ["server"] = "Host", ["port"] = "Port",
        ["dbname"] = "Database", ["database"] = "Database",
        ["user"] = "Username", ["username"] = "Username", ["user id"] = "Username", ["userid"] = "Username",
        ["password"] = "Password", ["passfile"] = "Passfile",
        ["sslmode"] = "SSL Mode", ["ssl mode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate", ["root certificate"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate", ["ssl certificate"] = "SSL Certificate",
        ["sslkey"] = "SSL Key", ["ssl key"] = "SSL Key",
        ["sslpassword"] = "SSL Password", ["ssl password"] = "SSL Password",
        ["sslnegotiation"] = "SSL Negotiation", ["ssl negotiation"] = "SSL Negotiation",
        ["channel_binding"] = "Channel Binding", ["channel binding"] = "Channel Binding",
        ["connect_timeout"] = "Timeout", ["timeout"] = "Timeout",
        ["application_name"] = "Application Name", ["application name"] = "Application Name",
        ["options"] = "Options",
        ["client_encoding"] = "Client Encoding", ["client encoding"] = "Client Encoding",
        ["target_session_attrs"] = "Target Session Attributes", ["target session attributes"] = "Target Session Attributes",
        ["load_balance_hosts"] = "Load Balance Hosts", ["load balance hosts"] = "Load Balance Hosts",
        ["keepalives"] = "Tcp Keepalive", ["tcp keepalive"] = "Tcp Keepalive",
        ["keepalives_idle"] = "Tcp Keepalive Time", ["tcp keepalive time"] = "Tcp Keepalive Time",
        ["keepalives_interval"] = "Tcp Keepalive Interval", ["tcp keepalive interval"] = "Tcp Keepalive Interval",
    };

    /// <summary>The libpq names accepted, for the error that refuses another.</summary>
    public const string Known = "host, port, dbname, user, password, passfile, sslmode, sslrootcert, sslcert, sslkey, sslpassword, " +
        "sslnegotiation, channel_binding, connect_timeout, application_name, options, client_encoding, target_session_attrs, " +
        "load_balance_hosts, keepalives, keepalives_idle, keepalives_interval";

    /// <summary>Keywords whose value is a secret: never printed.</summary>
    private static bool IsSecret(string keyword) => keyword is "Password" or "SSL Password";

    private static readonly Dictionary<string, string> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = "Disable", ["allow"] = "Allow", ["prefer"] = "Prefer", ["require"] = "Require",
        ["verify-ca"] = "VerifyCA", ["verifyca"] = "VerifyCA", ["verify-full"] = "VerifyFull", ["verifyfull"] = "VerifyFull",
    };

    // libpq's spellings of the enumerated values -> Npgsql's.
    private static readonly Dictionary<string, string> ChannelBindings = new(StringComparer.Ordinal)
    {
        ["disable"] = "Disable", ["prefer"] = "Prefer", ["require"] = "Require",
    };

    private static readonly Dictionary<string, string> SslNegotiations = new(StringComparer.Ordinal)
    {
        ["postgres"] = "Postgres", ["direct"] = "Direct",
    };

    private static readonly Dictionary<string, string> SessionAttributes = new(StringComparer.Ordinal)
    {
        ["any"] = "any", ["read-write"] = "read-write", ["read-only"] = "read-only", ["primary"] = "primary",
        ["standby"] = "standby", ["prefer-primary"] = "prefer-primary", ["prefer-standby"] = "prefer-standby",
    };

    private static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["0"] = "false", ["1"] = "true", ["false"] = "false", ["true"] = "true",
    };

    private static readonly Dictionary<string, string> LoadBalancing = new(StringComparer.Ordinal)
    {
        ["disable"] = "false", ["random"] = "true", ["false"] = "false", ["true"] = "true",
    };

    private DatabaseSettings(List<KeyValuePair<string, string>> pairs) => Pairs = pairs;

    /// <summary>Canonical Npgsql keyword/value pairs, in the order given.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Pairs { get; }

    /// <summary>host:port (or the socket directory) for log lines: which server a failure is about.</summary>
    public string Server
    {
        get
        {
            var host = Get("Host") ?? "";
            var port = Get("Port") ?? "5432";
            if (host.StartsWith('/')) return host;
            return (host.Contains(':') && !host.Contains(',') ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public string? Get(string keyword)
    {
        foreach (var p in Pairs)
            if (p.Key == keyword) return p.Value;
        return null;
    }

    public static DatabaseSettings Parse(string text)
    {
        var s = text.Trim();
        var pairs = new List<KeyValuePair<string, string>>();
        if (s.StartsWith("postgres://", StringComparison.Ordinal) || s.StartsWith("postgresql://", StringComparison.Ordinal))
            ParseUrl(s, pairs);
        else if (s.Contains('='))
            ParseKeyValues(s, pairs);
        else
            throw new ConfigException(Variable, "not a postgres:// URL nor a key=value connection string; " + Form);
        var settings = new DatabaseSettings(pairs);
        if (string.IsNullOrEmpty(settings.Get("Host"))) throw new ConfigException(Variable, "no host; " + Form);
        var port = settings.Get("Port");
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535))
            throw new ConfigException(Variable, "port must be a number from 1 to 65535");
        if (settings.Get("Target Session Attributes") is not null && !settings.Get("Host")!.Contains(','))
            throw new ConfigException(Variable, "target_session_attrs needs several hosts (host=a,b or postgres://a:5432,b:5432/db)");
        if (settings.Get("Tcp Keepalive Interval") is not null && settings.Get("Tcp Keepalive Time") is null)
            throw new ConfigException(Variable, "keepalives_interval needs keepalives_idle too (Npgsql sets both or neither)");
        return settings;
    }

    /// <summary>
    /// By hand, not with System.Uri: Uri ends the authority at the first '/', so an unencoded password such as
    /// "5432/abc" would be read as a port and a path, and then printed. As for REDIS_URL, the last '@' before the
    /// path ends the credentials. An empty host is allowed for a Unix socket given as ?host=/run/postgresql.
    /// </summary>
    private static void ParseUrl(string s, List<KeyValuePair<string, string>> pairs)
    {
        var rest = s[(s.IndexOf("://", StringComparison.Ordinal) + 3)..];
        int query = rest.IndexOf('?');
        var queryText = query < 0 ? "" : rest[(query + 1)..];
        if (query >= 0) rest = rest[..query];
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var info = rest[..at];
            rest = rest[(at + 1)..];
            int colon = info.IndexOf(':');
            Add(pairs, "user", Decode(colon < 0 ? info : info[..colon]));
            if (colon >= 0) Add(pairs, "password", Decode(info[(colon + 1)..]));
        }
        int slash = rest.IndexOf('/');
        var hostPort = slash < 0 ? rest : rest[..slash];
        if (slash >= 0 && slash + 1 < rest.Length) Add(pairs, "dbname", Decode(rest[(slash + 1)..]));
        string host = hostPort;
        if (hostPort.StartsWith('['))
        {
            int close = hostPort.IndexOf(']');
            if (close < 0) throw new ConfigException(Variable, "malformed URL: an IPv6 host needs its closing ]; " + Form);
            host = hostPort[1..close];
            hostPort = hostPort[(close + 1)..];
            if (hostPort.Length > 0 && hostPort[0] != ':') throw new ConfigException(Variable, "malformed URL after the IPv6 host; " + Form);
            if (hostPort.Length > 0) Add(pairs, "port", hostPort[1..]);
        }
        else
        {
            int colon = hostPort.LastIndexOf(':');
            if (colon >= 0)
            {
                host = hostPort[..colon];
                Add(pairs, "port", hostPort[(colon + 1)..]);
            }
        }
        if (host.Length > 0) Add(pairs, "host", Decode(host));
        if (queryText.Length == 0) return;
        foreach (var part in queryText.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new ConfigException(Variable, "URL parameter without a value; " + Form);
            Add(pairs, Decode(part[..eq]), Decode(part[(eq + 1)..]));
        }
    }

    private static string Decode(string s)
    {
        try
        {
            return Uri.UnescapeDataString(s);
        }
        catch (UriFormatException)
        {
            throw new ConfigException(Variable, "malformed percent-encoding in the URL; " + Form);
        }
    }

    /// <summary>Npgsql's form separates pairs with ';', but a quoted libpq value may contain one.</summary>
    private static bool HasSemicolonOutsideQuotes(string s)
    {
        bool quoted = false;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\') i++;
            else if (s[i] == '\'') quoted = !quoted;
            else if (s[i] == ';' && !quoted) return true;
        }
        return false;
    }

    private static void ParseKeyValues(string s, List<KeyValuePair<string, string>> pairs)
    {
        if (HasSemicolonOutsideQuotes(s))
        {
            foreach (var raw in s.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = raw.IndexOf('=');
                if (eq <= 0) throw new ConfigException(Variable, "a part is not key=value; " + Form);
                Add(pairs, raw[..eq].Trim(), raw[(eq + 1)..].Trim());
            }
            return;
        }
        ParseLibpq(s, pairs);
    }

    /// <summary>
    /// libpq's keyword/value form: `key = value` separated by white space, a value in single quotes may hold
    /// spaces, with \' and \\ escaped (PostgreSQL docs, "Keyword/Value Connection Strings").
    /// </summary>
    private static void ParseLibpq(string s, List<KeyValuePair<string, string>> pairs)
    {
        int i = 0;
        while (true)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            if (i == s.Length) return;
            int keyStart = i;
            while (i < s.Length && s[i] != '=' && !char.IsWhiteSpace(s[i])) i++;
            var key = s[keyStart..i];
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            if (key.Length == 0 || i == s.Length || s[i] != '=') throw new ConfigException(Variable, "a part is not key=value; " + Form);
            i++;
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            var value = new StringBuilder();
            if (i < s.Length && s[i] == '\'')
            {
                i++;
                while (true)
                {
                    if (i == s.Length) throw new ConfigException(Variable, "a quoted value is not closed; " + Form);
                    char c = s[i++];
                    if (c == '\'') break;
                    if (c == '\\' && i < s.Length) c = s[i++];
                    value.Append(c);
                }
            }
            else
            {
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    char c = s[i++];
                    if (c == '\\' && i < s.Length) c = s[i++];
                    value.Append(c);
                }
            }
            Add(pairs, key, value.ToString());
        }
    }

    private static void Add(List<KeyValuePair<string, string>> pairs, string key, string value)
    {
        var lower = key.ToLowerInvariant();
        // The key is not echoed: after a mistyped quote it may be a piece of the password.
        if (!Keywords.TryGetValue(lower, out var keyword))
            throw new ConfigException(Variable, $"unknown parameter (the {Ordinal(pairs.Count + 1)} one); known: {Known}");
        value = keyword switch
        {
            "SSL Mode" => OneOf(SslModes, value, "sslmode"),
            "Channel Binding" => OneOf(ChannelBindings, value, "channel_binding"),
            "SSL Negotiation" => OneOf(SslNegotiations, value, "sslnegotiation"),
            "Target Session Attributes" => OneOf(SessionAttributes, value, "target_session_attrs"),
            "Tcp Keepalive" => OneOf(Switches, value, "keepalives"),
            "Load Balance Hosts" => OneOf(LoadBalancing, value, "load_balance_hosts"),
            "Timeout" => Seconds(value, "connect_timeout", 1024),
            "Tcp Keepalive Time" => Seconds(value, "keepalives_idle", int.MaxValue / 1000),
            "Tcp Keepalive Interval" => Seconds(value, "keepalives_interval", int.MaxValue / 1000),
            _ => value,
        };
        for (int i = 0; i < pairs.Count; i++)
        {
            if (pairs[i].Key != keyword) continue;
            pairs[i] = new(keyword, value);
            return;
        }
        pairs.Add(new(keyword, value));
    }

    private static string OneOf(Dictionary<string, string> allowed, string value, string name)
    {
        if (allowed.TryGetValue(value.ToLowerInvariant(), out var canonical)) return canonical;
        throw new ConfigException(Variable, $"{name} {ValueText.Quote(value)} is not one of {string.Join(", ", allowed.Keys)}");
    }

    /// <summary>A whole number of seconds, as libpq takes it (Npgsql caps connect_timeout at 1024).</summary>
    private static string Seconds(string value, string name, int max)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= max)
            return n.ToString(CultureInfo.InvariantCulture);
        throw new ConfigException(Variable, $"{name} {ValueText.Quote(value)} must be a whole number of seconds from 0 to {max}");
    }

    private static string Ordinal(int n) => n switch { 1 => "1st", 2 => "2nd", 3 => "3rd", _ => n + "th" };

    /// <summary>The settings as a URL with the password replaced by ***: safe for logs and `jobd config`.</summary>
    public string Redacted()
    {
        var sb = new StringBuilder("postgres://");
        var user = Get("Username");
        bool hasPassword = Get("Password") is not null;
        if (user is not null || hasPassword)
        {
            if (user is not null) sb.Append(Uri.EscapeDataString(user));
            if (hasPassword) sb.Append(":***");
            sb.Append('@');
        }
        var host = Get("Host")!;
        if (host.StartsWith('/')) host = "";  // a Unix socket directory goes in the query below
        sb.Append(host.Contains(':') ? "[" + host + "]" : host);
        if (Get("Port") is { } port) sb.Append(':').Append(port);
        sb.Append('/').Append(Uri.EscapeDataString(Get("Database") ?? ""));
        char joiner = '?';
        foreach (var p in Pairs)
        {
            if (p.Key is "Port" or "Database" or "Username" or "Password" || p.Key == "Host" && !p.Value.StartsWith('/')) continue;
            sb.Append(joiner).Append(Uri.EscapeDataString(p.Key)).Append('=').Append(IsSecret(p.Key) ? "***" : Uri.EscapeDataString(p.Value));
            joiner = '&';
        }
        return sb.ToString();
    }

    public override string ToString() => Redacted();
}
