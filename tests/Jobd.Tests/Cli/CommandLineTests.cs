using Jobd.Cli;
using Xunit;

namespace Jobd.Tests.Cli;

public sealed class CommandLineTests
{
    [Fact]
    public void No_arguments_means_run()
    {
        var cmd = CommandLine.Parse(System.Array.Empty<string>(), out _);
        Assert.Same(Verb.Run, cmd!.Verb);
    }

    [Theory]
    [InlineData("config --json --reference", "config")]
    [InlineData("version", "version")]
    [InlineData("help", "help")]
    [InlineData("--help", "help")]
    [InlineData("run -h", "run")]
    public void Verbs_and_their_flags_parse(string line, string verb)
    {
        var cmd = CommandLine.Parse(line.Split(' '), out var error);
        Assert.NotNull(cmd);
        Assert.Equal("", error);
        Assert.Equal(verb, cmd!.Verb.Name);
    }

    [Fact]
    public void A_flag_of_another_verb_is_refused()
    {
        Assert.Null(CommandLine.Parse(new[] { "version", "--json" }, out var error));
        Assert.Contains("unknown flag \"--json\" for `jobd version`", error);
    }

    [Fact]
    public void An_unknown_verb_is_refused_with_the_usage_and_escaped()
    {
        Assert.Null(CommandLine.Parse(new[] { "ru\nn" }, out var error));
        Assert.DoesNotContain('\n', error);
        Assert.Contains("usage: jobd [run|config|version|help]", error);
    }
}
