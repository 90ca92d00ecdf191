using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Ops;
using Jobd.Postgres;
using Jobd.Resp;
using Npgsql;

namespace Jobd.Outcomes;

/// <summary>
/// Owns what the result sink needs for the life of `jobd run`: its Redis connection, the Npgsql data source
/// and the drain task. Created only with DATABASE_URL, so a worker without it never loads Npgsql's state.
/// On stop it gives the sink a short budget to drain what the last jobs recorded; what is left stays in the
/// outbox for the next worker.
/// </summary>
public sealed class SinkRunner : IAsyncDisposable
{
    /// <summary>How long a stopping worker keeps draining the outbox before it exits.</summary>
    public static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(3);

    private readonly RedisClient _redis;
    private readonly NpgsqlDataSource _dataSource;
    private readonly CancellationTokenSource _stop = new();
    private Task? _task;

    public SinkRunner(JobdConfig config, DatabaseSettings database, string workerId, Log log)
    {
        _redis = new RedisClient(config.Redis with { ClientName = workerId });
        _dataSource = PostgresDataSource.Create(database, config.Postgres, workerId);
        // A consumer that has not touched its entries for a lease is presumed dead (as a job's worker is), but
        // not before a slow insert of them could have timed out: a live sink's batch is not taken over mid-write.
        var claimIdle = 3 * config.Heartbeat > config.Postgres.CommandTimeout + TimeSpan.FromSeconds(5)
            ? 3 * config.Heartbeat
            : config.Postgres.CommandTimeout + TimeSpan.FromSeconds(5);
        Sink = new OutcomeSink(_redis, _dataSource, database.Server, config.Keys, workerId, config.Postgres, claimIdle, config.WorkerTtl, log, new SinkStatus());
    }

    public OutcomeSink Sink { get; }

    public void Start() => _task = Sink.RunAsync(_stop.Token);

    public async Task StopAsync()
    {
        if (_task is null) return;
        Sink.BeginStop();
        _stop.CancelAfter(StopBudget);
        await _task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_task is not null) await _task.ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        await _redis.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
