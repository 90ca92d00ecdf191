using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Ops;
using Xunit;

namespace Jobd.Tests.Config;

public sealed class ConfigLoaderTests
{
    private static Dictionary<string, string> Env(params (string, string)[] pairs)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = "/usr/bin", ["HOME"] = "/root" };
        foreach (var (k, v) in pairs) env[k] = v;
        return env;
    }

    private static ConfigException Refused(params (string, string)[] pairs) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(Env(pairs)));

    [Fact]
    public void An_empty_environment_gives_the_documented_defaults()
    {
        var c = ConfigLoader.Load(Env());
        Assert.Equal("127.0.0.1", c.Redis.Host);
        Assert.Equal(6379, c.Redis.Port);
        Assert.Equal(0, c.Redis.Database);
        Assert.False(c.Redis.UseTls);
        Assert.Null(c.Database);
        Assert.Equal(ConfigSchema.ShutdownTimeoutDefault, c.ShutdownTimeout);
        Assert.Equal(ConfigSchema.RedisConnectTimeoutDefault, c.Redis.ConnectTimeout);
        Assert.Equal(ConfigSchema.RedisMaxReplyDefault, c.Redis.MaxReplyBytes);
        Assert.Equal(LogLevel.Info, c.LogLevel);
        Assert.Equal(LogFormat.Text, c.LogFormat);
    }

    [Fact]
    public void Every_variable_is_read_into_the_typed_object()
    {
        var ca = Path.GetTempFileName();
        try
        {
            var c = ConfigLoader.Load(Env(
                ("REDIS_URL", "rediss://worker:p%40ss@redis.internal:6380/3"),
                ("DATABASE_URL", "postgres://u:pw@pg:5432/jobs"),
                ("JOBD_REDIS_CA_FILE", ca),
                ("JOBD_REDIS_TLS_INSECURE", "no"),
                ("JOBD_REDIS_CONNECT_TIMEOUT", "750ms"),
                ("JOBD_REDIS_MAX_REPLY", "8MB"),
                ("JOBD_SHUTDOWN_TIMEOUT", "2m"),
                ("JOBD_LOG_LEVEL", "WARN"),
                ("JOBD_LOG_FORMAT", "json")));
            Assert.True(c.Redis.UseTls);
            Assert.Equal("worker", c.Redis.User);
            Assert.Equal("p@ss", c.Redis.Password);
            Assert.Equal("redis.internal", c.Redis.Host);
            Assert.Equal(6380, c.Redis.Port);
            Assert.Equal(3, c.Redis.Database);
            Assert.Equal(ca, c.Redis.CaFile);
            Assert.Equal(TimeSpan.FromMilliseconds(750), c.Redis.ConnectTimeout);
            Assert.Equal(8L << 20, c.Redis.MaxReplyBytes);
            Assert.Equal("pg", c.Database!.Get("Host"));
            Assert.Equal(TimeSpan.FromMinutes(2), c.ShutdownTimeout);
            Assert.Equal(LogLevel.Warn, c.LogLevel);
            Assert.Equal(LogFormat.Json, c.LogFormat);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    /// <summary>systemd.exec(5): JOURNAL_STREAM counts only when it is stderr's own device:inode.</summary>
    [Fact]
    public async Task Auto_log_format_is_journal_only_when_journal_stream_names_stderr()
    {
        var stderr = await Jobd.Tests.Ops.JournalStreamTests.StatAsync("%d:%i", $"/proc/{Environment.ProcessId}/fd/2");
        Assert.Equal(LogFormat.Journal, ConfigLoader.Load(Env(("JOURNAL_STREAM", stderr))).LogFormat);
        Assert.Equal(LogFormat.Text, ConfigLoader.Load(Env(("JOURNAL_STREAM", "8:12345"))).LogFormat);
        Assert.Equal(LogFormat.Text, ConfigLoader.Load(Env(("JOURNAL_STREAM", stderr), ("JOBD_LOG_FORMAT", "text"))).LogFormat);
    }

    [Fact]
    public void An_empty_value_means_the_default()
    {
        var c = ConfigLoader.Load(Env(("JOBD_SHUTDOWN_TIMEOUT", " "), ("REDIS_URL", "")));
        Assert.Equal(ConfigSchema.ShutdownTimeoutDefault, c.ShutdownTimeout);
        Assert.Equal(6379, c.Redis.Port);
    }

    [Fact]
    public void An_unknown_variable_is_refused_with_a_hint()
    {
        var e = Refused(("JOBD_SHUTDOWN_TIMOUT", "30s"));
        Assert.Equal("JOBD_SHUTDOWN_TIMOUT".Replace("TIMEOUT", "TIMOUT"), e.Variable);
        Assert.Contains("did you mean JOBD_SHUTDOWN_TIMEOUT?", e.Message);
    }

    [Fact]
    public void An_unknown_variable_far_from_any_known_gets_no_hint()
    {
        var e = Refused(("JOBD_COMPLETELY_DIFFERENT_THING", "1"));
        Assert.Contains("unknown variable", e.Message);
        Assert.DoesNotContain("did you mean", e.Message);
    }

    [Fact]
    public void Variables_without_the_prefix_are_not_ours_and_are_ignored()
    {
        ConfigLoader.Load(Env(("JOB_SOMETHING", "x"), ("REDIS_HOST", "y")));
    }

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "JOBD_SHUTDOWN_TIMEOUT", "30", "expected a number with a unit" },
        { "JOBD_SHUTDOWN_TIMEOUT", "2h", "out of range; expected 0s to 1h" },
        { "JOBD_REDIS_CONNECT_TIMEOUT", "10ms", "out of range; expected 100ms to 5m" },
        { "JOBD_REDIS_MAX_REPLY", "64", "expected a number with a unit" },
        { "JOBD_REDIS_MAX_REPLY", "2GB", "out of range; expected 1KB to 1GB" },
        { "JOBD_LOG_LEVEL", "verbose", "is not one of debug, info, warn, error" },
        { "JOBD_LOG_FORMAT", "xml", "is not one of auto, text, json, journal" },
        { "REDIS_URL", "http://u:CANARY@h:6379", "expected" },
        { "REDIS_URL", "redis://u:CANARY@h:70000", "expected" },
        { "REDIS_URL", "redis://u:CANARY@h:6379/x", "expected" },
        { "DATABASE_URL", "mysql://u:CANARY@h/d", "not a postgres:// URL" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Malformed_values_name_the_variable_in_one_line_without_secrets(string name, string value, string expected)
    {
        var e = Refused((name, value));
        Assert.Equal(name, e.Variable);
        Assert.StartsWith(name + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("CANARY", e.Message);
    }

    [Fact]
    public void Tls_settings_without_rediss_are_a_mistake()
    {
        Assert.Equal("JOBD_REDIS_TLS_INSECURE", Refused(("JOBD_REDIS_TLS_INSECURE", "1")).Variable);
        var e = Refused(("REDIS_URL", "rediss://h:6380"), ("JOBD_REDIS_CA_FILE", "/nonexistent/ca.pem"));
        Assert.Contains("no file at", e.Message);
    }

    [Theory]
    [InlineData("JOBD_HEARTBEAT\nX")]
    [InlineData("JOBD_\u001b[31mRED")]
    public void An_unknown_name_with_control_characters_is_escaped_into_one_line(string name)
    {
        var e = Refused((name, "1"));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\u001b', e.Message);
        Assert.StartsWith("\"JOBD_", e.Message);
    }

    [Fact]
    public void A_long_unknown_name_is_cut()
    {
        var e = Refused(("JOBD_" + new string('A', 5000), "1"));
        Assert.True(e.Message.Length < 300, e.Message.Length.ToString());
    }

    [Fact]
    public void A_reply_limit_below_the_job_limit_blames_the_variable_that_was_set()
    {
        var e = Refused(("JOBD_REDIS_MAX_REPLY", "64KB"));
        Assert.Equal("JOBD_REDIS_MAX_REPLY", e.Variable);
        Assert.Contains("JOBD_MAX_JOB_BYTES (1MB) must be below JOBD_REDIS_MAX_REPLY (64KB)", e.Message);
    }
}
