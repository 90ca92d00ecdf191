using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Queue;
using Jobd.Queue.Admin;

namespace Jobd.Cli;

/// <summary>`jobd job ID`: one job's hash, as field: value lines (times also in RFC 3339) or a JSON object.</summary>
public static class JobVerb
{
    public static Task<int> RunAsync(CommandLine cmd, JobdConfig config, TextWriter stdout, TextWriter stderr)
    {
        if (cmd.Positionals.Count != 1)
        {
            stderr.WriteLine("jobd: job needs one job ID; usage: " + Verb.Job.UsageLine);
            return Task.FromResult(ExitCodes.Usage);
        }
        var id = cmd.Positionals[0];
        if (!Names.IsId(id))
        {
            stderr.WriteLine($"jobd: bad job id \"{Jobd.Ops.TextEscape.Escape(id, 64)}\": {Names.IdRule}");
            return Task.FromResult(ExitCodes.DataErr);
        }
        return AdminText.WithRedisAsync(config, stderr, async redis =>
        {
            var fields = await JobRecord.ReadAsync(redis, config.Keys, id).ConfigureAwait(false);
            if (fields is null && config.Database is { } database)
            {
                var fromPostgres = await JobHistory.TryPrintAsync(config, database, id, cmd.Has("--json"), stdout, stderr).ConfigureAwait(false);
                if (fromPostgres is { } code) return code;
            }
            if (fields is null)
            {
                stderr.WriteLine($"jobd: no job {id} (never existed, or its data expired after JOBD_DONE_TTL / JOBD_DEAD_TTL)");
                return AdminText.NotFound;
            }
            if (cmd.Has("--json"))
            {
                AdminText.WriteJson(stdout, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    foreach (var (k, v) in fields) w.WriteString(k, v);
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }
            var sb = new StringBuilder();
            sb.Append("id: ").Append(id).Append('\n');
            foreach (var (k, v) in fields)
            {
                sb.Append(Jobd.Ops.TextEscape.Escape(k)).Append(": ");
                if (k is "args" or "result") sb.Append(v);
                else sb.Append(Jobd.Ops.TextEscape.Escape(v));
                if (JobRecord.IsTimeField(k) && AdminText.TryLong(v, out var ms)) sb.Append(" (").Append(AdminText.Time(ms)).Append(')');
                sb.Append('\n');
            }
            stdout.Write(sb.ToString());
            return ExitCodes.Ok;
        });
    }
}
