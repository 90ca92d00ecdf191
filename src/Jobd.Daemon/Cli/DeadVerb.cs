using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Queue;
using Jobd.Queue.Admin;

namespace Jobd.Cli;

/// <summary>`jobd dead list|retry|purge`: the dead set, for operators.</summary>
public static class DeadVerb
{
    public const int LimitDefault = 50, LimitMax = 10_000, ReasonMax = 120;

    public static Task<int> RunAsync(CommandLine cmd, JobdConfig config, TextWriter stdout, TextWriter stderr)
    {
        var sub = cmd.Positionals.Count > 0 ? cmd.Positionals[0] : null;
        if (sub is not ("list" or "retry" or "purge"))
            return Refuse(stderr, ExitCodes.Usage, (sub is null ? "dead needs list, retry or purge" : $"unknown dead sub-verb \"{Jobd.Ops.TextEscape.Escape(sub, 40)}\"") + "; usage: " + Verb.Dead.UsageLine);
        var queue = cmd.Value("--queue");
        if (queue is not null && !Names.IsQueue(queue))
            return Refuse(stderr, ExitCodes.DataErr, $"bad queue \"{Jobd.Ops.TextEscape.Escape(queue, 64)}\": {Names.QueueRule}");
        string? id = cmd.Positionals.Count > 1 ? cmd.Positionals[1] : null;
        if (sub != "retry" && id is not null)
            return Refuse(stderr, ExitCodes.Usage, $"dead {sub} takes no job ID; usage: {Verb.Dead.UsageLine}");
        if (sub != "retry" && cmd.Has("--all"))
            return Refuse(stderr, ExitCodes.Usage, $"--all is for dead retry; usage: {Verb.Dead.UsageLine}");
        if (sub != "list" && (cmd.Has("--limit") || cmd.Has("--json")))
            return Refuse(stderr, ExitCodes.Usage, $"--limit and --json are for dead list; usage: {Verb.Dead.UsageLine}");

        switch (sub)
        {
            case "list":
            {
                int limit = LimitDefault;
                if (cmd.Value("--limit") is { } text && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > LimitMax))
                    return Refuse(stderr, ExitCodes.DataErr, $"bad --limit \"{Jobd.Ops.TextEscape.Escape(text, 20)}\": must be from 1 to {LimitMax}");
                return AdminText.WithRedisAsync(config, stderr, async redis =>
                {
                    var jobs = await new DeadJobs(redis, config.Keys).ListAsync(queue, limit).ConfigureAwait(false);
                    if (cmd.Has("--json")) WriteJson(stdout, jobs);
                    else WriteText(stdout, jobs);
                    return ExitCodes.Ok;
                });
            }
            case "retry":
                if (id is null == !cmd.Has("--all"))
                    return Refuse(stderr, ExitCodes.Usage, $"dead retry needs a job ID or --all (not both); usage: {Verb.Dead.UsageLine}");
                if (id is not null && !Names.IsId(id))
                    return Refuse(stderr, ExitCodes.DataErr, $"bad job id \"{Jobd.Ops.TextEscape.Escape(id, 64)}\": {Names.IdRule}");
                if (id is not null && queue is not null)
                    return Refuse(stderr, ExitCodes.Usage, $"--queue goes with --all, not with a job ID; usage: {Verb.Dead.UsageLine}");
                return AdminText.WithRedisAsync(config, stderr, async redis =>
                {
                    var dead = new DeadJobs(redis, config.Keys);
                    long n = id is null ? await dead.RetryAllAsync(queue).ConfigureAwait(false)
                        : await dead.RetryAsync(new[] { id }).ConfigureAwait(false);
                    if (id is not null && n == 0)
                    {
                        stderr.WriteLine($"jobd: job {id} is not dead (no such job, or not in state dead); nothing retried");
                        return AdminText.NotFound;
                    }
                    stdout.WriteLine($"retried {n} {(n == 1 ? "job" : "jobs")}");
                    return ExitCodes.Ok;
                });
            default:
                return AdminText.WithRedisAsync(config, stderr, async redis =>
                {
                    long n = await new DeadJobs(redis, config.Keys).PurgeAsync(queue).ConfigureAwait(false);
                    stdout.WriteLine($"purged {n} {(n == 1 ? "job" : "jobs")}");
                    return ExitCodes.Ok;
                });
        }
    }

    private static Task<int> Refuse(TextWriter stderr, int code, string message)
    {
        stderr.WriteLine("jobd: " + message);
        return Task.FromResult(code);
    }

    private static void WriteJson(TextWriter stdout, System.Collections.Generic.List<DeadJob> jobs) => AdminText.WriteJson(stdout, w =>
    {
        w.WriteStartArray();
        foreach (var j in jobs)
        {
            w.WriteStartObject();
            w.WriteString("id", j.Id);
            w.WriteString("type", j.Type);
            w.WriteString("queue", j.Queue);
            if (j.Attempt is { } a) w.WriteNumber("attempt", a);
            else w.WriteNull("attempt");
            if (j.DiedAt is { } t) w.WriteString("died_at", AdminText.Time(t));
            else w.WriteNull("died_at");
            w.WriteString("reason", j.LastError);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    private static void WriteText(TextWriter stdout, System.Collections.Generic.List<DeadJob> jobs)
    {
        int idW = 2, typeW = 4, queueW = 5;
        foreach (var j in jobs)
        {
            idW = Math.Max(idW, j.Id.Length);
            typeW = Math.Max(typeW, (j.Type ?? "-").Length);
            queueW = Math.Max(queueW, (j.Queue ?? "-").Length);
        }
        var sb = new StringBuilder();
        foreach (var j in jobs)
        {
            sb.Append(j.Id.PadRight(idW)).Append("  ").Append((j.Type ?? "-").PadRight(typeW)).Append("  ")
              .Append((j.Queue ?? "-").PadRight(queueW)).Append("  ")
              .Append((j.DiedAt is { } t ? AdminText.Time(t) : "-").PadRight(24)).Append("  ")
              .Append(Jobd.Ops.TextEscape.Escape(j.LastError, ReasonMax)).Append('\n');
        }
        stdout.Write(sb.ToString());
    }
}
