using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Queue;
using Npgsql;

namespace Jobd.Outcomes;

/// <summary>
/// Writing a batch so that no row can hold it back. The batch goes in one statement; when Postgres refuses its
/// data (<see cref="IsRowError"/>), row by row: a refused row is stored minimal (ids, state, times, worker, no args
/// or result, and in its error column what was left out and the SQLSTATE that refused it); a row refused even so
/// is set aside while the rest is committed and acknowledged, tried again after <see cref="RefusedRowPause"/>,
/// and after <see cref="RefusedRowTries"/> refusals given up with one error line naming the job: that outcome
/// then exists only in the job's Redis hash, for its TTL. Outages (connection, timeout, read-only, disk full,
/// too many clients) are not row errors: they keep the whole batch and back off.
/// </summary>
public sealed partial class OutcomeSink
{
    /// <summary>How often a row refused even in its minimal form is tried before it is given up.</summary>
    public const int RefusedRowTries = 3;

    /// <summary>The pause before a refused row is tried again; the rest of its batch is already written.</summary>
    public static readonly TimeSpan RefusedRowPause = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, int> _refusals = new(StringComparer.Ordinal);
    private readonly List<OutcomeEntry> _one = new(1);
    private readonly List<OutcomeEntry> _again = new();

    /// <summary>
    /// Data refused by this row, not an outage: 22 data exception (jsonb's \u0000, a timestamp out of range),
    /// 23 integrity constraint (a check an operator added), 54 program limit (an index row too large).
    /// </summary>
    internal static bool IsRowError(PostgresException e) =>
        e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal)
        || e.SqlState.StartsWith("54", StringComparison.Ordinal);

    /// <summary>Writes what is held: moves each entry to _settled (written or given up) or keeps it to try again.</summary>
    private async Task<int> WriteAsync(CancellationToken stop)
    {
        try
        {
            int written = await _writer.WriteAsync(_held, stop).ConfigureAwait(false);
            Settle(_held);
            _held.Clear();
            return written;
        }
        catch (PostgresException e) when (IsRowError(e))
        {
            // one by one below
        }
        int rows = 0;
        _again.Clear();
        foreach (var entry in _held)
        {
            _one.Clear();
            _one.Add(entry);
            PostgresException refused;
            try
            {
                rows += await _writer.WriteAsync(_one, stop).ConfigureAwait(false);
                Settle(_one);
                continue;
            }
            catch (PostgresException e) when (IsRowError(e))
            {
                refused = e;
            }
            var reason = refused.SqlState + ": " + Cut(refused.MessageText, 200);
            try
            {
                rows += await _writer.WriteAsync(_one, stop, "jobd: args and result not stored, postgres refused them (" + reason + ")").ConfigureAwait(false);
                _log.Warn($"postgres refused the outcome of job {entry.JobId} ({reason}); stored without its args and result, the reason in its error column");
                Settle(_one);
            }
            catch (PostgresException e) when (IsRowError(e))
            {
                int tries = _refusals.GetValueOrDefault(entry.EntryId) + 1;
                if (tries < RefusedRowTries)
                {
                    _refusals[entry.EntryId] = tries;
                    _again.Add(entry);
                    continue;
                }
                _log.Error($"outcome {entry.Seq} of job {entry.JobId} not stored: postgres refused even its minimal row {tries} times " +
                           $"({e.SqlState}: {Cut(e.MessageText, 200)}); dropped from the outbox, it stays in the job's Redis data for its TTL");
                Settle(_one);
            }
        }
        _held.Clear();
        _held.AddRange(_again);
        return rows;
    }

    private void Settle(List<OutcomeEntry> entries)
    {
        foreach (var e in entries)
        {
            if (_refusals.Count > 0) _refusals.Remove(e.EntryId);
            _settled.Add(e);
        }
    }

    private static string Cut(string s, int max) => OutcomeWriter.Cut(s, max);
}
