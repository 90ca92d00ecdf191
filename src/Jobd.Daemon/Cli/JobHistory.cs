using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Postgres;
using Npgsql;

namespace Jobd.Cli;

/// <summary>
/// `jobd job ID` once Redis has forgotten the job: its outcomes from Postgres, oldest first. Returns null when
/// Postgres has none either (the caller then says the job is unknown).
/// </summary>
public static class JobHistory
{
    public static async Task<int?> TryPrintAsync(JobdConfig config, DatabaseSettings database, string id, bool json,
        TextWriter stdout, TextWriter stderr)
    {
        await using var dataSource = PostgresDataSource.Create(database, config.Postgres, "jobd job");
        using var timeout = new CancellationTokenSource(config.Postgres.CommandTimeout + TimeSpan.FromSeconds(10));
        try
        {
            await using var command = dataSource.CreateCommand(
                "SELECT seq, attempt, max_attempts, type, queue, state, recoveries, args::text, result::text, error, " +
                "enqueued_at, started_at, finished_at, duration_ms, worker FROM " + config.Postgres.QuotedSchema +
                ".outcomes WHERE job_id = $1 ORDER BY seq");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(timeout.Token).ConfigureAwait(false);
            var text = new StringBuilder();
            int rows = 0;
            using var buffer = new MemoryStream();
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("source", "postgres");
                w.WriteStartArray("outcomes");
                while (await reader.ReadAsync(timeout.Token).ConfigureAwait(false))
                {
                    rows++;
                    w.WriteStartObject();
                    text.Append("outcome ").Append(reader.GetInt32(0).ToString(CultureInfo.InvariantCulture)).Append(":\n");
                    for (int i = 0; i < reader.FieldCount; i++)
                    {
                        var name = reader.GetName(i);
                        if (reader.IsDBNull(i))
                        {
                            w.WriteNull(name);
                            continue;
                        }
                        var value = reader.GetValue(i) switch
                        {
                            DateTime t => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                            var v => v.ToString() ?? "",
                        };
                        if (name is "args" or "result")
                        {
                            w.WritePropertyName(name);
                            w.WriteRawValue(value, skipInputValidation: true);
                        }
                        else if (reader.GetFieldType(i) == typeof(int) || reader.GetFieldType(i) == typeof(long)) w.WriteNumber(name, long.Parse(value, CultureInfo.InvariantCulture));
                        else w.WriteString(name, value);
                        text.Append("  ").Append(name).Append(": ").Append(name is "args" or "result" ? value : Ops.TextEscape.Escape(value)).Append('\n');
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            if (rows == 0) return null;
            if (json) stdout.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            else stdout.Write("id: " + id + "\nsource: postgres (its data in Redis expired)\n" + text);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            stderr.WriteLine($"jobd: job {id} is not in Redis, and postgres {database.Redacted()} could not be asked: " +
                             Ops.TextEscape.Escape(e is OperationCanceledException ? "timed out" : PostgresDataSource.Describe(e), 300));
            return ExitCodes.Unavailable;
        }
    }
}
