using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>The published binary's verbs, help and usage errors, as a user meets them.</summary>
public sealed class CliTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(10);

    private static async Task<(int Code, string[] Out, string[] Err)> Jobd(params string[] args)
    {
        await using var p = JobdBinary.Start(args, JobdBinary.Env());
        int code = await p.WaitForExitAsync(Quick);
        return (code, ToArray(p.Stdout), ToArray(p.Stderr));
    }

    private static string[] ToArray(TestSignal<string> s) => new System.Collections.Generic.List<string>(s.Snapshot()).ToArray();

    [Fact]
    public async Task Version_names_the_release_and_the_aot_build()
    {
        var (code, stdout, stderr) = await Jobd("version");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        var line = Assert.Single(stdout);
        Assert.StartsWith("jobd 0.1.0", line);
        Assert.Contains("native-aot", line);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("help")]
    [InlineData("-h")]
    public async Task Help_lists_every_verb(string flag)
    {
        var (code, stdout, _) = await Jobd(flag);
        Assert.Equal(0, code);
        var text = string.Join('\n', stdout);
        foreach (var verb in new[] { "run", "enqueue", "config", "version" }) Assert.Contains("  " + verb, text);
        Assert.Contains("78 configuration error", text);
    }

    [Fact]
    public async Task Every_verb_has_help()
    {
        foreach (var verb in new[] { "run", "enqueue", "config", "version", "help" })
        {
            var (code, stdout, _) = await Jobd(verb, "--help");
            Assert.Equal(0, code);
            Assert.Contains("usage: jobd " + verb, string.Join('\n', stdout));
        }
        var (helpRunCode, helpRun, _) = await Jobd("help", "run");
        Assert.Equal(0, helpRunCode);
        Assert.Contains("usage: jobd run", string.Join('\n', helpRun));
        var (_, configHelp, _) = await Jobd("config", "--help");
        Assert.Contains("JOBD_SHUTDOWN_TIMEOUT", string.Join('\n', configHelp));
    }

    [Theory]
    [InlineData("frobnicate", "unknown verb \"frobnicate\"")]
    [InlineData("--frob", "unknown flag \"--frob\" for `jobd run`")]
    [InlineData("config --yaml", "unknown flag \"--yaml\" for `jobd config`")]
    [InlineData("version extra", "unexpected argument \"extra\" for `jobd version`")]
    public async Task Unknown_verbs_and_flags_exit_64_with_one_usage_line(string argLine, string expected)
    {
        var (code, stdout, stderr) = await Jobd(argLine.Split(' '));
        Assert.Equal(64, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr);
        Assert.StartsWith("jobd: ", line);
        Assert.Contains(expected, line);
        Assert.Contains("usage:", line);
    }

    [Theory]
    [InlineData("version >&-", 0)]
    [InlineData("--help >&-", 0)]
    [InlineData("frobnicate 2>&-", 64)]
    [InlineData("config 2>&- </dev/null", 78)]
    public async Task Closed_standard_streams_do_not_change_the_exit_code(string command, int expected)
    {
        var env = JobdBinary.Env(("BIN_UNDER_TEST", JobdBinary.Path));
        if (command.StartsWith("config", StringComparison.Ordinal)) env["JOBD_NOT_A_VARIABLE"] = "1";
        await using var sh = ChildProcess.Start("/bin/sh", new[] { "-c", "exec \"$BIN_UNDER_TEST\" " + command }, env);
        Assert.Equal(expected, await sh.WaitForExitAsync(Quick));
    }
}
