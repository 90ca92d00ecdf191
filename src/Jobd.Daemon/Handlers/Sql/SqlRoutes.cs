using Jobd.Config;
using Jobd.Handlers.Routes;
using Jobd.Postgres;
using Npgsql;

namespace Jobd.Handlers.Sql;

/// <summary>
/// Builds sql route handlers; the only way in to Npgsql for routes, called only when a sql route is configured.
/// All sql routes share one data source of their own with a pool of one connection (a worker runs one job at a
/// time), next to the outcome sink's (JOBD_PG_POOL_MAX, default 1): a worker with sql routes holds at most
/// 1 + JOBD_PG_POOL_MAX connections, each closed after JOBD_PG_IDLE unused. Not the sink's, by choice: a job may
/// hold its connection for its whole timeout, and must not keep the sink from recording outcomes meanwhile (nor
/// the sink's batches delay a job); and its own application_name lets an operator tell job work from jobd's
/// bookkeeping in pg_stat_activity, and end one without the other.
/// </summary>
public static class SqlRoutes
{
    public const string ApplicationName = "jobd sql route";

    public static IJobHandler Create(Route route, JobdConfig config, HandlerRegistry registry, ref object? shared)
    {
        if (shared is not NpgsqlDataSource dataSource)
        {
            // RouteTable.Load refused a sql route without DATABASE_URL, so Database is set here.
            dataSource = PostgresDataSource.Create(config.Database!, config.Postgres with { PoolMax = 1 }, ApplicationName);
            shared = dataSource;
            registry.Own(dataSource);
        }
        return new SqlRouteHandler(dataSource, route, config.JobTimeout, config.Routes.MaxResultBytes);
    }
}
