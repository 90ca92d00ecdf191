using System;

namespace Jobd.Postgres;

/// <summary>How jobd uses its Postgres: the smallest pool that keeps up, closed when idle, PgBouncer-safe.</summary>
public sealed record PostgresOptions(string Schema, int PoolMax, TimeSpan IdleLifetime, bool Prepare, TimeSpan CommandTimeout)
{
    public const string SchemaDefault = "jobd";
    public const int PoolMaxDefault = 1;
    public static readonly TimeSpan IdleLifetimeDefault = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan CommandTimeoutDefault = TimeSpan.FromSeconds(30);

    public static PostgresOptions Default { get; } = new(SchemaDefault, PoolMaxDefault, IdleLifetimeDefault, false, CommandTimeoutDefault);

    /// <summary>The schema as a quoted SQL identifier; the name itself is checked by <see cref="IsSchemaName"/>.</summary>
    public string QuotedSchema => "\"" + Schema + "\"";

    public const string SchemaRule = "1-63 of a-z 0-9 _, starting with a letter or _";

    public static bool IsSchemaName(string s)
    {
        if (s.Length is 0 or > 63 || char.IsAsciiDigit(s[0])) return false;
        foreach (char c in s)
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')) return false;
        return true;
    }
}
