using System;
using System.Text;
using Jobd.Config;

namespace Jobd.Handlers.Routes;

/// <summary>Parses one route value (http:URL | exec:PROGRAM ARGS… | sql:[SCHEMA.]FUNCTION); mistakes are one-line ConfigExceptions.</summary>
public static class RouteParser
{
    public const string Form = "http:<url> | exec:<program> [args…] | sql:[schema.]function";

    public static Route Parse(string variable, string text, bool allowTypePlaceholder)
    {
        int colon = text.IndexOf(':');
        var kind = colon < 0 ? "" : text[..colon];
        var rest = colon < 0 ? "" : text[(colon + 1)..].Trim();
        switch (kind)
        {
            case "http": return ParseHttp(variable, text, rest, allowTypePlaceholder);
            case "exec":
                if (!ArgvSplitter.TrySplit(rest, out var argv, out var problem))
                    throw new ConfigException(variable, "exec: " + problem + "; expected exec:<program> [args…]");
                // No PATH lookup: which program runs is fixed by the configuration, not by the environment.
                if (!argv[0].StartsWith('/'))
                    throw new ConfigException(variable, "exec: the program " + ValueText.Quote(argv[0]) + " is not an absolute path; expected exec:/path/to/program [args…]");
                return new Route { Kind = RouteKind.Exec, Text = text, Argv = argv.ToArray() };
            case "sql":
                if (!TryQuoteFunction(rest, out var quoted))
                    throw new ConfigException(variable, ValueText.Quote(rest) + " is not a function name; expected sql:[schema.]function, each part [A-Za-z_][A-Za-z0-9_$]*");
                return new Route { Kind = RouteKind.Sql, Text = text, QuotedFunction = quoted };
            default:
                throw new ConfigException(variable, "unknown route kind " + ValueText.Quote(kind) + "; expected " + Form);
        }
    }

    private static Route ParseHttp(string variable, string text, string rest, bool allowTypePlaceholder)
    {
        bool hasPlaceholder = rest.Contains("{type}", StringComparison.Ordinal);
        if (hasPlaceholder && !allowTypePlaceholder)
            throw new ConfigException(variable, "{type} is allowed in JOBD_DEFAULT_ROUTE only");
        // Check the URL with a harmless stand-in for {type}; the handler substitutes the real, percent-encoded type.
        var probe = rest.Replace("{type}", "t", StringComparison.Ordinal);
        if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Host.Length == 0)
            throw new ConfigException(variable, "http: not an absolute http(s) URL; expected http:http(s)://host[:port]/path");
        if (uri.UserInfo.Length > 0)
            throw new ConfigException(variable, "http: credentials in the URL are not supported; use JOBD_HTTP_SECRET");
        if (hasPlaceholder && rest.IndexOf("{type}", StringComparison.Ordinal) < rest.IndexOf("//", StringComparison.Ordinal) + 2 + uri.Authority.Length)
            throw new ConfigException(variable, "http: {type} may appear in the path or query only, not in the host");
        return new Route { Kind = RouteKind.Http, Text = text, Url = uri, UrlTemplate = hasPlaceholder ? rest : null };
    }

    /// <summary>
    /// [schema.]function, each part [A-Za-z_][A-Za-z0-9_$]*, at most 63 bytes; quoted as "schema"."function". An
    /// unqualified name means public.function: the call never goes through search_path, so neither a role's nor a
    /// pooler's search_path can put another schema's function of the same name in its place.
    /// </summary>
    public static bool TryQuoteFunction(string name, out string quoted)
    {
        quoted = "";
        var parts = name.Split('.');
        if (parts.Length > 2) return false;
        var sb = new StringBuilder();
        if (parts.Length == 1) sb.Append("\"public\"");
        foreach (var p in parts)
        {
            if (p.Length is 0 or > 63) return false;
            if (!(char.IsAsciiLetter(p[0]) || p[0] == '_')) return false;
            foreach (char c in p)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$')) return false;
            if (sb.Length > 0) sb.Append('.');
            sb.Append('"').Append(p).Append('"');
        }
        quoted = sb.ToString();
        return true;
    }
}
