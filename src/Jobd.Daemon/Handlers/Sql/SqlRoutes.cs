using Jobd.Config;
using Jobd.Handlers.Routes;

namespace Jobd.Handlers.Sql;

/// <summary>Builds sql route handlers; the only way in to Npgsql, called only when a sql route is configured.</summary>
public static class SqlRoutes
{
    public static IJobHandler Create(Route route, JobdConfig config, ref object? shared) =>
        throw new ConfigException("JOBD_ROUTE_*", "sql routes are not available in this build");
}
