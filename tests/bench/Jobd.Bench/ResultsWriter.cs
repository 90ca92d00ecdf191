// The markdown table: figure, median (min–max), same-run reference, target, whether it holds.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Jobd.Bench;

internal static class ResultsWriter
{
    public static string Table(IReadOnlyList<Figure> figures, SuiteOptions o)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"jobd benchmark{(o.Smoke ? " (SMOKE: tiny counts, not figures)" : "")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, ")
          .Append(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} CPUs; median of {o.Runs} run(s) (min–max); ")
          .Append(CultureInfo.InvariantCulture, $"{o.DrainJobs:N0} no-op jobs per drain, {o.DueJobs:N0} due jobs, {o.LatencyJobs:N0} latency samples, ")
          .Append(CultureInfo.InvariantCulture, $"idle RSS after {o.IdleRssAfter.TotalSeconds:0} s, idle commands over {o.IdleCommandsWindow.TotalSeconds:0} s.\n\n");
        sb.Append("| figure | measured | reference (same run) | target | holds |\n|---|---|---|---|---|\n");
        foreach (var f in figures)
            sb.Append(CultureInfo.InvariantCulture, $"| {f.Name} | {f.ValueText()} | {f.ReferenceText()} | {f.Target} | {f.HoldsText()} |\n");
        return sb.ToString();
    }
}
