using System;
using System.Collections.Generic;
using System.IO;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Packaging;

/// <summary>
/// Dockerfile.aot read instruction by instruction, as a builder reads it (there is no Docker engine or Dockerfile
/// linter on this machine): a multi-stage net9.0 AOT build whose final stage holds only the binary and the zones,
/// runs as a non-root user, is health-checked by `jobd health` and is stopped with SIGTERM.
/// </summary>
public sealed class DockerfileTests
{
    private sealed record Instruction(string Keyword, string Args);

    /// <summary>Stages in order, each its instructions from FROM on; continuation lines joined, comments dropped.</summary>
    private static List<List<Instruction>> Stages()
    {
        var stages = new List<List<Instruction>>();
        string pending = "";
        foreach (var raw in File.ReadAllLines(RepoPaths.File("Dockerfile.aot")))
        {
            string line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0)) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            line = pending + line;
            pending = "";
            if (line.Length == 0) continue;
            int space = line.IndexOf(' ');
            var ins = new Instruction(line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (ins.Keyword == "FROM") stages.Add(new List<Instruction>());
            Assert.True(stages.Count > 0, $"{ins.Keyword} before the first FROM");
            stages[^1].Add(ins);
        }
        return stages;
    }

    private static List<Instruction> All(List<Instruction> stage, string keyword) =>
        stage.FindAll(i => i.Keyword == keyword);

    private static string Only(List<Instruction> stage, string keyword)
    {
        var found = All(stage, keyword);
        Assert.True(found.Count == 1, $"the stage has {found.Count} {keyword} instructions, expected 1");
        return found[0].Args;
    }

    [Fact]
    public void Build_stage_publishes_the_net9_aot_binary_with_make_publish()
    {
        var build = Stages()[0];
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0 AS build", build[0].Args);
        Assert.Equal("TFM=net9.0", Only(build, "ARG"));
        Assert.Contains(All(build, "RUN"), r => r.Args == "make publish TFM=${TFM}");
        // The AOT toolchain and the zone database come from Debian's packages.
        Assert.Contains(All(build, "RUN"), r => r.Args.Contains("clang", StringComparison.Ordinal)
                                               && r.Args.Contains("zlib1g-dev", StringComparison.Ordinal)
                                               && r.Args.Contains("tzdata", StringComparison.Ordinal));
        // make publish writes the binary where the final stage copies it from.
        Assert.Contains("-o artifacts/jobd", File.ReadAllText(RepoPaths.File("Makefile")));
    }

    [Fact]
    public void Final_stage_is_a_minimal_base_holding_only_the_binary_and_the_zones()
    {
        var stages = Stages();
        Assert.Equal(2, stages.Count);
        var final = stages[1];
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime-deps:", final[0].Args);
        Assert.EndsWith("-chiseled", final[0].Args);
        // Chiseled images have no shell: a RUN there could not work, and nothing is installed after the base.
        Assert.Empty(All(final, "RUN"));
        var copies = All(final, "COPY");
        Assert.Equal(2, copies.Count);
        Assert.Contains(copies, c => c.Args == "--from=build /src/artifacts/jobd/jobd /usr/bin/jobd");
        Assert.Contains(copies, c => c.Args == "--from=build /zoneinfo /usr/share/zoneinfo");
        // The build context leaves local builds out, so the image compiles from source only.
        var ignored = File.ReadAllLines(RepoPaths.File(".dockerignore"));
        Assert.Contains("artifacts", ignored);
        Assert.Contains("**/obj", ignored);
    }

    [Fact]
    public void Final_stage_runs_as_a_non_root_user_before_its_entrypoint()
    {
        var final = Stages()[1];
        string user = Only(final, "USER");
        Assert.DoesNotContain(user, new[] { "root", "0", "0:0", "root:root" });
        Assert.True(final.FindIndex(i => i.Keyword == "USER") < final.FindIndex(i => i.Keyword == "ENTRYPOINT"),
            "USER must come before ENTRYPOINT");
        Assert.Equal("[\"/usr/bin/jobd\"]", Only(final, "ENTRYPOINT"));
        Assert.Equal("[\"run\"]", Only(final, "CMD"));
    }

    [Fact]
    public void Healthcheck_runs_jobd_health_in_exec_form_and_stop_is_sigterm()
    {
        var final = Stages()[1];
        string health = Only(final, "HEALTHCHECK");
        // Exec form: the chiseled image has no /bin/sh for the shell form.
        Assert.EndsWith("CMD [\"/usr/bin/jobd\", \"health\"]", health);
        Assert.Matches(@"--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ ", health);
        Assert.Equal("SIGTERM", Only(final, "STOPSIGNAL"));
        // jobd health gives up within its budget; the HEALTHCHECK must wait clearly longer, or a slow Redis would
        // turn into a killed probe instead of an "unhealthy" line.
        var timeout = TimeSpan.FromSeconds(int.Parse(System.Text.RegularExpressions.Regex.Match(health, @"--timeout=(\d+)s").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(timeout >= 2 * Jobd.Cli.HealthVerb.Budget, $"HEALTHCHECK --timeout={timeout.TotalSeconds}s vs jobd health's {Jobd.Cli.HealthVerb.Budget.TotalSeconds}s budget");
    }
}
