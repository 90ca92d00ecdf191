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
    public static void Register(HandlerRegistry registry, JobdConfig config)
    {
        var table = config.Routes;
        HttpClient? http = table.Any(RouteKind.Http) ? HttpRouteHandler.CreateClient() : null;
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
