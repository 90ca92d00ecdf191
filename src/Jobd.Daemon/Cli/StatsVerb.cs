using System.Globalization;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Queue.Admin;

namespace Jobd.Cli;

/// <summary>`jobd stats`: ready jobs per queue, totals, counters and live workers, in two round trips.</summary>
public static class StatsVerb
{
    public static Task<int> RunAsync(CommandLine cmd, JobdConfig config, TextWriter stdout, TextWriter stderr)
    {
        if (cmd.Positionals.Count > 0)
        {
            stderr.WriteLine("jobd: stats takes no arguments; usage: " + Verb.Stats.UsageLine);
            return Task.FromResult(ExitCodes.Usage);
        }
        return AdminText.WithRedisAsync(config, stderr, async redis =>
        {
            var s = await QueueStats.ReadAsync(redis, config.Keys, config.Queues).ConfigureAwait(false);
            if (cmd.Has("--json")) WriteJson(stdout, s);
            else WriteText(stdout, s);
            return ExitCodes.Ok;
        });
    }

    private static void WriteJson(TextWriter stdout, QueueStats s) => AdminText.WriteJson(stdout, w =>
    {
        w.WriteStartObject();
        w.WriteString("time", AdminText.Time(s.NowMs));
        w.WriteStartObject("queues");
        foreach (var q in s.Ready)
            if (q.Value == QueueStats.NotAList) w.WriteString(q.Key, "not a list");
            else w.WriteNumber(q.Key, q.Value);
        w.WriteEndObject();
        w.WriteNumber("scheduled", s.Scheduled);
        w.WriteNumber("running", s.Running);
        w.WriteNumber("dead", s.Dead);
        w.WriteNumber("outbox", s.Outbox);
        w.WriteStartObject("counters");
        w.WriteNumber("done", s.DoneCount);
        w.WriteNumber("dead", s.DeadCount);
        w.WriteNumber("retried", s.RetriedCount);
        w.WriteNumber("recovered", s.RecoveredCount);
        w.WriteEndObject();
        w.WriteStartArray("workers");
        foreach (var worker in s.Workers)
        {
            w.WriteStartObject();
            w.WriteString("id", worker.Id);
            w.WriteString("heartbeat", AdminText.Time(worker.HeartbeatMs));
            w.WriteNumber("heartbeat_age_ms", s.NowMs - worker.HeartbeatMs);
            if (worker.Job is null) w.WriteNull("job");
            else w.WriteString("job", worker.Job);
            if (worker.Sink is null) w.WriteNull("sink");
            else w.WriteString("sink", worker.Sink);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void WriteText(TextWriter stdout, QueueStats s)
    {
        var sb = new StringBuilder();
        int width = 9;
        foreach (var q in s.Ready) if (q.Key.Length > width) width = q.Key.Length;
        sb.Append("QUEUE".PadRight(width)).Append("  READY\n");
        foreach (var q in s.Ready)
            sb.Append(q.Key.PadRight(width)).Append("  ").Append(q.Value == QueueStats.NotAList ? "not a list (WRONGTYPE): skipped" : N(q.Value).PadLeft(5)).Append('\n');
        sb.Append('\n');
        Row(sb, "scheduled", s.Scheduled);
        Row(sb, "running", s.Running);
        Row(sb, "dead", s.Dead);
        Row(sb, "outbox", s.Outbox);
        sb.Append('\n').Append("counters  done ").Append(N(s.DoneCount)).Append("  dead ").Append(N(s.DeadCount))
          .Append("  retried ").Append(N(s.RetriedCount)).Append("  recovered ").Append(N(s.RecoveredCount)).Append('\n');
        sb.Append('\n').Append("workers   ").Append(N(s.Workers.Count)).Append('\n');
        if (s.Workers.Count > 0)
        {
            int idWidth = 6;
            foreach (var w in s.Workers) idWidth = System.Math.Max(idWidth, Jobd.Ops.TextEscape.Escape(w.Id).Length);
            sb.Append("WORKER".PadRight(idWidth)).Append("  HEARTBEAT AGE  JOB").Append(' ', 25).Append("  SINK\n");
            foreach (var w in s.Workers)
            {
                double age = (s.NowMs - w.HeartbeatMs) / 1000.0;
                sb.Append(Jobd.Ops.TextEscape.Escape(w.Id).PadRight(idWidth)).Append("  ")
                  .Append((age.ToString("0.0", CultureInfo.InvariantCulture) + "s").PadLeft(13)).Append("  ")
                  .Append((w.Job ?? "-").PadRight(28)).Append("  ").Append(w.Sink is null ? "-" : Jobd.Ops.TextEscape.Escape(w.Sink, 120)).Append('\n');
            }
        }
        stdout.Write(sb.ToString());
    }

    private static void Row(StringBuilder sb, string name, long value) => sb.Append(name.PadRight(10)).Append(N(value)).Append('\n');

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
