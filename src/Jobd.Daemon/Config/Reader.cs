using System;
using System.Collections.Generic;
using System.Text;

namespace Jobd.Config;

/// <summary>Typed reads of single variables; each failure becomes a one-line <see cref="ConfigException"/>.</summary>
internal readonly struct Reader
{
    private readonly IReadOnlyDictionary<string, string> _env;

    public Reader(IReadOnlyDictionary<string, string> env) => _env = env;

    public string? Text(ConfigVariable v) =>
        _env.TryGetValue(v.Name, out var s) && s.Trim().Length > 0 ? s.Trim() : null;

    /// <summary>Every set member of a variable family, as (name after the prefix, trimmed value), sorted by name.</summary>
    public List<(string Suffix, string Value)> Family(ConfigVariable v)
    {
        var members = new List<(string, string)>();
        foreach (var (name, value) in _env)
            if (v.Matches(name) && value.Trim().Length > 0) members.Add((name[v.FamilyPrefix!.Length..], value.Trim()));
        members.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return members;
    }

    public TimeSpan Duration(ConfigVariable v, TimeSpan fallback, TimeSpan min, TimeSpan max)
    {
        var s = Text(v);
        if (s is null) return fallback;
        if (!ValueParsers.TryDuration(s, out var d, out var problem)) throw new ConfigException(v.Name, problem);
        if (d < min || d > max)
            throw new ConfigException(v.Name, $"{ValueText.Quote(s)} is out of range; expected {ValueParsers.FormatDuration(min)} to {ValueParsers.FormatDuration(max)}");
        return d;
    }

    public long Size(ConfigVariable v, long fallback, long min, long max)
    {
        var s = Text(v);
        if (s is null) return fallback;
        if (!ValueParsers.TrySize(s, out var n, out var problem)) throw new ConfigException(v.Name, problem);
        if (n < min || n > max)
            throw new ConfigException(v.Name, $"{ValueText.Quote(s)} is out of range; expected {ValueParsers.FormatSize(min)} to {ValueParsers.FormatSize(max)}");
        return n;
    }

    public long Int(ConfigVariable v, long fallback, long min, long max)
    {
        var s = Text(v);
        if (s is null) return fallback;
        if (!ValueParsers.TryInt(s, out var n, out var problem)) throw new ConfigException(v.Name, problem + $"; expected {min} to {max}");
        if (n < min || n > max) throw new ConfigException(v.Name, $"{ValueText.Quote(s)} is out of range; expected {min} to {max}");
        return n;
    }

    /// <summary>A comma-separated list of names, each checked by <paramref name="valid"/>, none twice.</summary>
    public string[] List(ConfigVariable v, string fallback, Func<string, bool> valid, string rule)
    {
        var parts = (Text(v) ?? fallback).Split(',', StringSplitOptions.TrimEntries);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in parts)
        {
            if (!valid(p)) throw new ConfigException(v.Name, $"{ValueText.Quote(p)} is not a valid name; {rule}");
            if (!seen.Add(p)) throw new ConfigException(v.Name, $"{ValueText.Quote(p)} is listed twice");
        }
        return parts;
    }

    public bool Bool(ConfigVariable v, bool fallback)
    {
        var s = Text(v);
        if (s is null) return fallback;
        if (!ValueParsers.TryBool(s, out var b, out var problem)) throw new ConfigException(v.Name, problem);
        return b;
    }

    public T Choice<T>(ConfigVariable v, T fallback, params (string Name, T Value)[] choices)
    {
        var s = Text(v);
        if (s is null) return fallback;
        var names = new StringBuilder();
        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, s, StringComparison.OrdinalIgnoreCase)) return value;
            if (names.Length > 0) names.Append(", ");
            names.Append(name);
        }
        throw new ConfigException(v.Name, $"{ValueText.Quote(s)} is not one of {names}");
    }
}
