using System;

namespace Jobd.Handlers.Routes;

public enum RouteKind
{
    Http,
    Exec,
    Sql,
}

/// <summary>
/// One parsed route value. Http: <see cref="Url"/> (may hold {type}); Exec: <see cref="Argv"/> (split at start-up,
/// never by a shell); Sql: <see cref="QuotedFunction"/> ("schema"."function", validated and quoted).
/// </summary>
public sealed class Route
{
    public required RouteKind Kind { get; init; }

    /// <summary>The value as configured, for `jobd config` (holds no secret).</summary>
    public required string Text { get; init; }

    /// <summary>Http: the URL ({type} stood in for by "t"); with a placeholder the handler builds the real one per type from <see cref="UrlTemplate"/>.</summary>
    public Uri? Url { get; init; }
    public string? UrlTemplate { get; init; }
    public string[] Argv { get; init; } = Array.Empty<string>();
    public string? QuotedFunction { get; init; }
}
