using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>One execution as the `ledger` handler recorded it: a start line, and an end line unless the run was cut.</summary>
public sealed class LedgerRun
{
    public required string Id { get; init; }
    public required int Attempt { get; init; }
    public required string Token { get; init; }
    public required int Pid { get; init; }
    public required long StartMs { get; init; }
    public long? EndMs { get; set; }
    public string? Outcome { get; set; }
}

/// <summary>
/// The runs recorded in JOBD_LEDGER_DIR/ledger.PID files: written by the handler itself, not by jobd's queue code,
/// so it is the record of what really ran. A last line cut by kill -9 is ignored (its run then counts as unrecorded).
/// </summary>
public static class Ledger
{
    public static List<LedgerRun> Read(string dir)
    {
        var runs = new List<LedgerRun>();
        var open = new Dictionary<string, LedgerRun>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(dir, "ledger.*"))
        {
            foreach (var line in File.ReadAllLines(file))
            {
                var f = line.Split(' ');
                if (f.Length < 6 || !long.TryParse(f[5], NumberStyles.None, CultureInfo.InvariantCulture, out long ms)) continue;
                if (f[0] == "start")
                {
                    var run = new LedgerRun
                    {
                        Id = f[1], Attempt = int.Parse(f[2], CultureInfo.InvariantCulture), Token = f[3],
                        Pid = int.Parse(f[4], CultureInfo.InvariantCulture), StartMs = ms,
                    };
                    runs.Add(run);
                    open[f[3]] = run;
                }
                else if (f[0] == "end" && f.Length >= 7 && open.TryGetValue(f[3], out var started))
                {
                    started.EndMs = ms;
                    started.Outcome = f[6];
                }
            }
        }
        return runs;
    }
}
