using System;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers.Routes;
using Jobd.Queue;
using Npgsql;

namespace Jobd.Handlers.Sql;

/// <summary>
/// sql:[SCHEMA.]FUNCTION routes: one transaction per job that sets statement_timeout to the job's timeout
/// (SET LOCAL through set_config, so it ends with the transaction and is safe behind PgBouncer in transaction
/// mode) and calls the function with the job's args as one jsonb parameter. The name was validated and quoted at
/// start-up; the args only ever travel as a bound parameter. Whatever the function returns is rendered by
/// to_jsonb, so any return type is a JSON result.
/// </summary>
public sealed class SqlRouteHandler : IJobHandler
{
    private const int ErrorExcerptChars = 1000;

    /// <summary>Client-side backstop beyond statement_timeout, for a server that never answers.</summary>
    private const int CommandTimeoutSlackSeconds = 5;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _call;
    private readonly TimeSpan _defaultTimeout;
    private readonly int _maxResultBytes;

    public SqlRouteHandler(NpgsqlDataSource dataSource, Route route, TimeSpan defaultTimeout, long maxResultBytes)
    {
        _dataSource = dataSource;
        _call = CallText(route.QuotedFunction!);
        _defaultTimeout = defaultTimeout;
        _maxResultBytes = (int)maxResultBytes;
    }

    /// <summary>
    /// The one statement a route runs; <paramref name="quotedFunction"/> is "schema"."function" from RouteParser.
    /// Every other name is pg_catalog's, written out, so no search_path can resolve it elsewhere.
    /// </summary>
    public static string CallText(string quotedFunction) =>
        "select pg_catalog.to_jsonb(" + quotedFunction + "($1::pg_catalog.text::pg_catalog.jsonb))::pg_catalog.text";

    public async ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken)
    {
        var timeout = job.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : _defaultTimeout;
        long timeoutMs = Math.Max(1, (long)timeout.TotalMilliseconds);
        string? result;
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                Timeout = (int)Math.Min(int.MaxValue, timeoutMs / 1000 + 1 + CommandTimeoutSlackSeconds),
            };
            var setTimeout = new NpgsqlBatchCommand("select pg_catalog.set_config('statement_timeout', $1, true)");
            setTimeout.Parameters.Add(new NpgsqlParameter { Value = timeoutMs.ToString(CultureInfo.InvariantCulture) });
            var call = new NpgsqlBatchCommand(_call);
            call.Parameters.Add(new NpgsqlParameter { Value = job.ArgsJson.Length == 0 ? "null" : job.ArgsJson });
            batch.BatchCommands.Add(setTimeout);
            batch.BatchCommands.Add(call);
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0) ? reader.GetString(0) : null;
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (cancellationToken.IsCancellationRequested)
        {
            // The job's timeout or a shutdown cancelled the command (statement_timeout may have fired in the same
            // instant): the runner decides between a timeout retry and putting the job back.
            throw new OperationCanceledException("sql: cancelled", e, cancellationToken);
        }
        catch (PostgresException e)
        {
            return Classify(e, timeout);
        }
        catch (NpgsqlException e)
        {
            // Not an error the server raised: the connection failed, broke or timed out on the client side.
            return JobOutcome.RetryLater("sql: connection: " + ResultText.Excerpt(Jobd.Postgres.PostgresDataSource.Describe(e), ErrorExcerptChars));
        }
        return JobOutcome.Success(Bounded(result));
    }

    /// <summary>Serialization failures, deadlocks, the job's own timeout and a server going away retry; the rest is the function's answer.</summary>
    public static JobOutcome Classify(PostgresException e, TimeSpan timeout)
    {
        var text = "sql: " + e.SqlState + ": " + ResultText.Excerpt(e.MessageText, ErrorExcerptChars);
        return e.SqlState switch
        {
            PostgresErrorCodes.QueryCanceled => JobOutcome.RetryLater("sql: timeout after " + timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s (statement_timeout)"),
            PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected => JobOutcome.RetryLater(text),
            PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                or PostgresErrorCodes.TooManyConnections => JobOutcome.RetryLater(text),
            _ when e.SqlState.StartsWith("08", StringComparison.Ordinal) => JobOutcome.RetryLater(text),
            _ => JobOutcome.Fail(text),
        };
    }

    private string? Bounded(string? json)
    {
        if (json is null) return null;
        // Length counts UTF-16 units, each at most 3 UTF-8 bytes: the common case needs no byte count.
        if ((long)json.Length * 3 <= _maxResultBytes || Encoding.UTF8.GetByteCount(json) <= _maxResultBytes) return json;
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            Encoding.UTF8.GetBytes(json, buffer);
            return ResultText.FromBytes(buffer.AsSpan(0, _maxResultBytes), truncated: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
