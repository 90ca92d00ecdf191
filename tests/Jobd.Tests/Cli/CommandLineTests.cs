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
        Assert.Contains("usage: jobd [run|enqueue|stats|job|dead|cron|health|migrate|config|version|help]", error);
    }

    [Fact]
    public void Value_flags_and_positionals_parse_for_enqueue()
    {
        var cmd = CommandLine.Parse(new[] { "enqueue", "send", "{}", "--queue", "low", "--in", "5m", "--json" }, out var error);
        Assert.Equal("", error);
        Assert.Same(Verb.Enqueue, cmd!.Verb);
        Assert.Equal(new[] { "send", "{}" }, cmd.Positionals);
        Assert.Equal("low", cmd.Value("--queue"));
        Assert.Equal("5m", cmd.Value("--in"));
        Assert.True(cmd.Has("--json"));
        Assert.Null(cmd.Value("--unique"));
    }

    [Fact]
    public void A_third_positional_or_a_missing_value_is_refused()
    {
        Assert.Null(CommandLine.Parse(new[] { "enqueue", "a", "{}", "extra" }, out var e1));
        Assert.Contains("unexpected argument \"extra\"", e1);
        Assert.Null(CommandLine.Parse(new[] { "enqueue", "a", "--timeout" }, out var e2));
        Assert.Contains("needs a value", e2);
        Assert.NotNull(CommandLine.Parse(new[] { "enqueue", "a", "-" }, out _));
    }
}
