using System.IO;
using System.Text;
using Jobd.Config;

namespace Jobd.Cli;

/// <summary>`jobd --help` and `jobd VERB --help`.</summary>
public static class HelpText
{
    public static void WriteOverview(TextWriter output)
    {
        var sb = new StringBuilder();
        sb.Append("jobd: a background-job worker. Takes jobs from Redis queues, runs them one at a time,\n")
          .Append("records outcomes in Postgres. Configured by environment variables only.\n\n")
          .Append("usage: ").Append(Verb.Usage).Append("\n\nverbs:\n");
        foreach (var v in Verb.All)
            sb.Append("  ").Append(v.Name.PadRight(9)).Append(FirstLine(v.Description)).Append('\n');
        sb.Append("\nexit codes: 0 ok, 1 no such job, 64 usage, 65 bad job or id, 69 Redis unavailable, 70 internal error,\n  75 recycled (JOBD_MAX_JOBS, JOBD_MAX_RSS_MB), 78 configuration error\n")
          .Append("`jobd config --help` lists the environment variables.\n");
        output.Write(sb.ToString());
    }

    public static void WriteVerb(TextWriter output, Verb verb)
    {
        output.Write("usage: " + verb.UsageLine + "\n\n" + verb.Description + "\n");
        if (verb == Verb.Config || verb == Verb.Run)
        {
            output.Write("\nenvironment variables:\n");
            foreach (var v in ConfigSchema.All)
                output.Write($"  {v.Name}  ({v.Form}; default {v.Default ?? "unset"})\n      {v.Description}\n");
        }
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return nl < 0 ? s : s[..nl];
    }
}
