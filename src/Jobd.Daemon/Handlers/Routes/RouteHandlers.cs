using System.Net.Http;
using Jobd.Config;
using Jobd.Handlers.Http;

namespace Jobd.Handlers.Routes;

/// <summary>
/// Registers a handler per configured route at start-up, and the default route as the registry's fallback.
/// Sql handlers are built through <see cref="Sql.SqlRoutes"/> only when a sql route exists, so without one no
/// Npgsql type is ever touched.
/// </summary>
public static class RouteHandlers
{
    /// <summary>
    /// Refuses a route whose type already has a compiled-in handler (noop, sleep, fail, ledger, or one a host
    /// program registered): which of the two should run is the operator's mistake to fix, not jobd's to guess.
    /// The one place routes meet the registry, so every registered name is covered, whoever registered it.
    /// </summary>
    public static void CheckClashes(HandlerRegistry registry, RouteTable table)
    {
        foreach (var (type, _) in table.ByType)
            if (registry.Contains(type))
                throw new ConfigException(ConfigSchema.Route.FamilyPrefix + type,
                    type + " is a compiled-in handler and cannot also be routed; choose another type name or drop the route");
    }

    public static void Register(HandlerRegistry registry, JobdConfig config)
    {
        var table = config.Routes;
        // Before any handler exists: a refused configuration opens no connection pool.
        CheckClashes(registry, table);
        HttpClient? http = table.Any(RouteKind.Http) ? HttpRouteHandler.CreateClient(table.HttpAllow) : null;
        object? sql = null;
        IJobHandler Create(Route route) => route.Kind switch
        {
            RouteKind.Http => new HttpRouteHandler(http!, route, table, Jobd.Cli.VersionVerb.Version),
            RouteKind.Exec => new Exec.ExecRouteHandler(route, table, ConfigLoader.ProcessEnvironment()),
            _ => Sql.SqlRoutes.Create(route, config, registry, ref sql),
        };
        foreach (var (type, route) in table.ByType) registry.Register(type, Create(route));
        if (table.Default is { } d) registry.SetFallback(Create(d));
    }
}
