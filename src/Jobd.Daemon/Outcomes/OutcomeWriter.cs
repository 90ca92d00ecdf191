using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Postgres;
using Jobd.Queue;
using Npgsql;
using NpgsqlTypes;

namespace Jobd.Outcomes;

/// <summary>
/// Writes a batch of outcomes to {schema}.outcomes in one statement: the rows travel as one array per column
/// and are unnested server side, so a batch of 1,000 costs one round trip and no prepared statement (PgBouncer
/// in transaction mode is fine). ON CONFLICT DO NOTHING on the key makes a replayed batch harmless.
/// </summary>
public sealed class OutcomeWriter
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _sql;

    public OutcomeWriter(NpgsqlDataSource dataSource, PostgresOptions options)
    {
        _dataSource = dataSource;
        _sql = "INSERT INTO " + options.QuotedSchema + ".outcomes (job_id, seq, attempt, max_attempts, type, queue, state, recoveries, " +
               "args, result, error, enqueued_at, started_at, finished_at, duration_ms, worker) " +
               "SELECT u.job_id, u.seq, u.attempt, u.max_attempts, u.type, u.queue, u.state, u.recoveries, u.args::jsonb, u.result::jsonb, " +
               "u.error, to_timestamp(u.enq / 1000.0), to_timestamp(u.st / 1000.0), to_timestamp(u.fin / 1000.0), u.fin - u.st, u.worker " +
               "FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], " +
               "$10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::text[]) " +
               "AS u(job_id, seq, attempt, max_attempts, type, queue, state, recoveries, args, result, error, enq, st, fin, worker) " +
               "ON CONFLICT (job_id, seq, finished_at) DO NOTHING";
    }

    /// <summary>How much of a failed attempt's error a minimal row keeps after its note.</summary>
    private const int MinimalErrorChars = 4000;

    /// <summary>
    /// Returns the rows inserted (fewer than the batch when some were written before). With a note, each row is
    /// written minimal: no args, no result, and the note (why they were left out) in its error column, followed by
    /// the start of the attempt's own error when it failed.
    /// </summary>
    public async Task<int> WriteAsync(List<OutcomeEntry> batch, CancellationToken cancel, string? minimalNote = null)
    {
        int n = batch.Count;
        var ids = new string[n];
        var seqs = new int[n];
        var attempts = new int[n];
        var maxAttempts = new int[n];
        var types = new string[n];
        var queues = new string[n];
        var states = new string[n];
        var recoveries = new int[n];
        var args = new string?[n];
        var results = new string?[n];
        var errors = new string?[n];
        var enqueued = new long?[n];
        var started = new long?[n];
        var finished = new long[n];
        var workers = new string?[n];
        for (int i = 0; i < n; i++)
        {
            var e = batch[i];
            ids[i] = JsonbText.Text(e.JobId);
            seqs[i] = e.Seq;
            attempts[i] = e.Attempt;
            maxAttempts[i] = e.MaxAttempts;
            types[i] = JsonbText.Text(e.Type);
            queues[i] = JsonbText.Text(e.Queue);
            states[i] = e.State;
            recoveries[i] = e.Recoveries;
            bool succeeded = e.State == "succeeded";
            if (minimalNote is null)
            {
                args[i] = JsonbText.From(e.Args);
                results[i] = succeeded ? JsonbText.From(e.Text) : null;
                errors[i] = succeeded ? null : JsonbText.Text(e.Text);
            }
            else
            {
                errors[i] = succeeded || e.Text.Length == 0 ? minimalNote
                    : minimalNote + "; the error: " + JsonbText.Text(Cut(e.Text, MinimalErrorChars));
            }
            enqueued[i] = e.EnqueuedAtMs > 0 ? e.EnqueuedAtMs : null;
            started[i] = e.StartedAtMs > 0 ? e.StartedAtMs : null;
            finished[i] = e.FinishedAtMs;
            workers[i] = e.Worker.Length > 0 ? JsonbText.Text(e.Worker) : null;
        }
        await using var command = _dataSource.CreateCommand(_sql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = seqs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = attempts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = maxAttempts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = queues, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = states, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = recoveries, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = args, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = results, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = errors, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = enqueued, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = started, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        p.Add(new NpgsqlParameter<long[]> { TypedValue = finished, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = workers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return await command.ExecuteNonQueryAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>At most max chars, never ending in half a surrogate pair (Npgsql refuses to encode one).</summary>
    internal static string Cut(string s, int max)
    {
        if (s.Length <= max) return s;
        return char.IsHighSurrogate(s[max - 1]) ? s[..(max - 1)] : s[..max];
    }
}
