using System.Collections.Generic;
using Jobd.Config;

namespace Jobd.Cron;

/// <summary>The cron lines of `jobd config`: zone, catch-up window and each schedule as it was understood.</summary>
internal static class CronPrinter
{
    public static void AddEffective(List<(string Name, string? Value, bool IsDefault)> list, CronSettings cron,
        IReadOnlyDictionary<string, string> env)
    {
        list.Add((ConfigSchema.CronTz.Name, cron.ZoneName, IsUnset(env, ConfigSchema.CronTz.Name)));
        list.Add((ConfigSchema.CronCatchup.Name, ValueParsers.FormatDuration(cron.Catchup), IsUnset(env, ConfigSchema.CronCatchup.Name)));
        foreach (var e in cron.Entries)
            list.Add((ConfigSchema.CronSchedule.FamilyPrefix + e.Name, Describe(e), false));
    }

    /// <summary>The schedule in the form it is written in, normalised: expression, type, args, queue.</summary>
    public static string Describe(CronEntry e) => e.Expression.Text + " " + e.Type + " " + e.ArgsJson + " queue=" + e.Queue;

    private static bool IsUnset(IReadOnlyDictionary<string, string> env, string name) =>
        !env.TryGetValue(name, out var s) || s.Trim().Length == 0;
}
