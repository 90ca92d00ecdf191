using System;
using System.Globalization;
using System.Net.Sockets;
using Jobd.Config;
using Npgsql;

namespace Jobd.Postgres;

/// <summary>
/// The one Npgsql data source of a jobd process, built from DATABASE_URL and the JOBD_PG_* options. The slim
/// builder keeps Npgsql's AOT footprint small: only arrays (for multi-row inserts) and TLS are enabled. Pooling
/// follows PostgresOptions; statements are never prepared unless asked (PgBouncer in transaction mode cannot
/// keep them), and connections are not reset on close (DISCARD ALL is PgBouncer's business there).
/// Nothing here runs without DATABASE_URL, so Npgsql stays out of an outcome-less worker's memory.
/// </summary>
public static class PostgresDataSource
{
    public static NpgsqlDataSource Create(DatabaseSettings database, PostgresOptions options, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        string? targetSession = null;
        foreach (var (key, value) in database.Pairs)
        {
            // Npgsql takes the target of a multi-host data source per wrapper, not in the connection string.
            if (key == "Target Session Attributes") targetSession = value;
            else builder[key] = value;
        }
        if (database.Get("Application Name") is null) builder.ApplicationName = Truncate(applicationName, 63);
        builder.MaxPoolSize = options.PoolMax;
        builder.MinPoolSize = 0;
        builder.ConnectionIdleLifetime = Seconds(options.IdleLifetime);
        // Idle connections are looked at every pruning interval; it may not exceed the idle lifetime.
        builder.ConnectionPruningInterval = Math.Min(10, builder.ConnectionIdleLifetime);
        builder.CommandTimeout = Seconds(options.CommandTimeout);
        builder.MaxAutoPrepare = options.Prepare ? 20 : 0;
        builder.NoResetOnClose = true;
        builder.Multiplexing = false;
        if (database.Get("Timeout") is null) builder.Timeout = 10;
        var slim = new NpgsqlSlimDataSourceBuilder(builder.ConnectionString);
        slim.EnableArrays();
        slim.EnableTransportSecurity();
        if (targetSession is null) return slim.Build();
        return slim.BuildMultiHost().WithTargetSession(TargetSession(targetSession));
    }

    /// <summary>libpq's target_session_attrs values (DatabaseSettings accepts only these).</summary>
    private static TargetSessionAttributes TargetSession(string libpq) => libpq switch
    {
        "read-write" => TargetSessionAttributes.ReadWrite,
        "read-only" => TargetSessionAttributes.ReadOnly,
        "primary" => TargetSessionAttributes.Primary,
        "standby" => TargetSessionAttributes.Standby,
        "prefer-primary" => TargetSessionAttributes.PreferPrimary,
        "prefer-standby" => TargetSessionAttributes.PreferStandby,
        _ => TargetSessionAttributes.Any,
    };

    private static int Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    internal static string Describe(Exception e) => e switch
    {
        PostgresException p => p.SqlState + ": " + p.MessageText,
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } s =>
            "the host name does not resolve (" + s.Message + ")",
        NpgsqlException { InnerException: TimeoutException } n => n.Message + " (no answer within the timeout)",
        NpgsqlException { InnerException: { } inner } n => n.Message + " (" + inner.Message + ")",
        _ => e.Message,
    } ?? e.GetType().Name;

    internal static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);
}
