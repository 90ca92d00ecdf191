using System;
using System.Collections.Generic;
using Jobd.Config;

namespace Jobd.Handlers.Routes;

/// <summary>
/// Routes and handler settings from JOBD_ROUTE_&lt;TYPE&gt;, JOBD_DEFAULT_ROUTE, JOBD_HTTP_* , JOBD_EXEC_* and
/// JOBD_MAX_RESULT_BYTES, validated once at start-up. Secrets live here but are never printed (ConfigPrinter shows "(set)").
/// </summary>
public sealed class RouteTable
{
    public const long MaxResultBytesDefault = 64L << 10;
    public const string ExecEnvDefault = "PATH,LANG,LC_ALL,TZ,HOME";

    /// <summary>Type → route, sorted by type.</summary>
    public required IReadOnlyList<(string Type, Route Route)> ByType { get; init; }
    public Route? Default { get; init; }
    public byte[]? HttpSecret { get; init; }
    public byte[]? HttpSecretNext { get; init; }

    /// <summary>Null: any host. Otherwise lower-case host names a http route may reach.</summary>
    public string[]? HttpAllow { get; init; }
    public bool HttpRedirects { get; init; }
    public long MaxResultBytes { get; init; } = MaxResultBytesDefault;
    public string[] ExecEnv { get; init; } = ExecEnvDefault.Split(',');
    public string? ExecDir { get; init; }

    /// <summary>
    /// Bytes on an exec program's stdout past which it is ended and the job fails for good (output_too_large):
    /// four results' worth, at least 1 MiB. Enough room for a program that prints a little more than it should;
    /// a program that never stops (`yes`) is ended within milliseconds instead of at its timeout.
    /// </summary>
    public long ExecOutputCap => Math.Max(1L << 20, 4 * MaxResultBytes);

    public bool Any(RouteKind kind)
    {
        if (Default?.Kind == kind) return true;
        foreach (var (_, r) in ByType)
            if (r.Kind == kind) return true;
        return false;
    }

    internal static RouteTable Load(Reader reader, DatabaseSettings? database)
    {
        var byType = new List<(string, Route)>();
        foreach (var (suffix, value) in reader.Family(ConfigSchema.Route))
        {
            var name = ConfigSchema.Route.FamilyPrefix + suffix;
            if (!Jobd.Queue.Names.IsType(suffix))
                throw new ConfigException(ValueText.Quote(name), "the type after JOBD_ROUTE_ is not valid; " + Jobd.Queue.Names.TypeRule);
            byType.Add((suffix, RouteParser.Parse(name, value, allowTypePlaceholder: false)));
        }
        var defText = reader.Text(ConfigSchema.DefaultRoute);
        var def = defText is null ? null : RouteParser.Parse(ConfigSchema.DefaultRoute.Name, defText, allowTypePlaceholder: true);
        var table = new RouteTable
        {
            ByType = byType,
            Default = def,
            HttpSecret = Secret(reader, ConfigSchema.HttpSecret),
            HttpSecretNext = Secret(reader, ConfigSchema.HttpSecretNext),
            HttpAllow = reader.Text(ConfigSchema.HttpAllow) is null ? null
                : reader.List(ConfigSchema.HttpAllow, "", IsHost, "a host name of A-Z a-z 0-9 . - (or an IP address)"),
            HttpRedirects = reader.Bool(ConfigSchema.HttpRedirects, false),
            MaxResultBytes = reader.Size(ConfigSchema.MaxResultBytes, MaxResultBytesDefault, 1L << 10, 16L << 20),
            ExecEnv = reader.List(ConfigSchema.ExecEnv, ExecEnvDefault, IsEnvName, "a variable name of A-Z a-z 0-9 _"),
            ExecDir = reader.Text(ConfigSchema.ExecDir),
        };
        if (table.HttpSecretNext is not null && table.HttpSecret is null)
            throw new ConfigException(ConfigSchema.HttpSecretNext.Name, "set without JOBD_HTTP_SECRET; the next secret only adds to the current one");
        if (table.ExecDir is not null && !System.IO.Directory.Exists(table.ExecDir))
            throw new ConfigException(ConfigSchema.ExecDir.Name, "no directory at " + ValueText.Quote(table.ExecDir));
        if (table.Any(RouteKind.Sql) && database is null)
            throw new ConfigException(DatabaseSettings.Variable, "unset, but a sql: route needs it; expected " + ConfigSchema.DatabaseUrl.Form);
        if (table.HttpAllow is not null) CheckAllowed(table);
        if (table.HttpAllow is not null)
            for (int i = 0; i < table.HttpAllow.Length; i++) table.HttpAllow[i] = table.HttpAllow[i].ToLowerInvariant();
        return table;
    }

    private static void CheckAllowed(RouteTable t)
    {
        foreach (var (type, r) in t.ByType)
            if (r.Kind == RouteKind.Http && !IsAllowed(t.HttpAllow!, r.Url!.IdnHost))
                throw new ConfigException(ConfigSchema.Route.FamilyPrefix + type, "host " + r.Url.IdnHost + " is not in JOBD_HTTP_ALLOW");
        if (t.Default is { Kind: RouteKind.Http } d && !IsAllowed(t.HttpAllow!, d.Url!.IdnHost))
            throw new ConfigException(ConfigSchema.DefaultRoute.Name, "host " + d.Url.IdnHost + " is not in JOBD_HTTP_ALLOW");
    }

    public static bool IsAllowed(string[] allow, string host)
    {
        foreach (var a in allow)
            if (string.Equals(a, host, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private static byte[]? Secret(Reader reader, ConfigVariable v)
    {
        var s = reader.Text(v);
        if (s is null) return null;
        if (s.Length < 16) throw new ConfigException(v.Name, "too short; expected at least 16 characters");
        return System.Text.Encoding.UTF8.GetBytes(s);
    }

    private static bool IsHost(string s)
    {
        if (s.Length is 0 or > 253) return false;
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) return false;
        return true;
    }

    private static bool IsEnvName(string s)
    {
        if (s.Length is 0 or > 128 || char.IsAsciiDigit(s[0])) return false;
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }
}
