using System;
using System.IO;
using System.Text.Json;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>`jobd config`: the effective configuration, redacted; every bad input one line and exit 78.</summary>
public sealed class ConfigVerbTests
{
    private const string Canary = "CANARY-s3cr3t-7f1d";
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(10);

    private static async Task<(int Code, string[] Out, string[] Err)> Config(string[] args, params (string, string)[] env)
    {
        await using var p = JobdBinary.Start(args, JobdBinary.Env(env));
        int code = await p.WaitForExitAsync(Quick);
        return (code, new System.Collections.Generic.List<string>(p.Stdout.Snapshot()).ToArray(),
            new System.Collections.Generic.List<string>(p.Stderr.Snapshot()).ToArray());
    }

    [Fact]
    public async Task The_effective_configuration_is_printed_with_secrets_redacted()
    {
        var (code, stdout, stderr) = await Config(new[] { "config" },
            ("REDIS_URL", $"redis://worker:{Canary}@127.0.0.1:6390/2"),
            ("DATABASE_URL", $"postgres://app:{Canary}@db.internal:5432/app?sslmode=require"),
            ("JOBD_SHUTDOWN_TIMEOUT", "45s"));
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        var text = string.Join('\n', stdout);
        Assert.DoesNotContain(Canary, text);
        Assert.Contains("REDIS_URL=redis://worker:***@127.0.0.1:6390/2", text);
        Assert.Contains("DATABASE_URL=postgres://app:***@db.internal:5432/app?SSL%20Mode=Require", text);
        Assert.Contains("JOBD_SHUTDOWN_TIMEOUT=45s", text);
        Assert.Contains("JOBD_LOG_LEVEL=info (default)", text);
    }

    [Fact]
    public async Task Json_output_is_one_parseable_object_without_secrets()
    {
        var (code, stdout, _) = await Config(new[] { "config", "--json" },
            ("REDIS_URL", $"rediss://:{Canary}@cache.internal:6380"), ("JOBD_REDIS_MAX_REPLY", "8MB"));
        Assert.Equal(0, code);
        var json = string.Join('\n', stdout);
        Assert.DoesNotContain(Canary, json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("rediss://:***@cache.internal:6380/0", doc.RootElement.GetProperty("REDIS_URL").GetString());
        Assert.Equal("8MB", doc.RootElement.GetProperty("JOBD_REDIS_MAX_REPLY").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("DATABASE_URL").ValueKind);
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { "JOBD_SHUTDOWN_TIMOUT", "30s", "did you mean JOBD_SHUTDOWN_TIMEOUT?" },
        { "JOBD_LOGLEVEL", "info", "did you mean JOBD_LOG_LEVEL?" },
        { "JOBD_SHUTDOWN_TIMEOUT", "30", "not a duration" },
        { "JOBD_SHUTDOWN_TIMEOUT", "3h", "out of range" },
        { "JOBD_REDIS_CONNECT_TIMEOUT", "soon", "not a duration" },
        { "JOBD_REDIS_MAX_REPLY", "lots", "not a size" },
        { "JOBD_REDIS_MAX_REPLY", "512B", "out of range" },
        { "JOBD_REDIS_TLS_INSECURE", "maybe", "not a boolean" },
        { "JOBD_LOG_LEVEL", "chatty", "is not one of" },
        { "JOBD_LOG_FORMAT", "xml", "is not one of" },
        { "REDIS_URL", $"memcached://u:{Canary}@h:11211", "REDIS_URL" },
        { "REDIS_URL", $"redis://u:{Canary}@h:99999/0", "REDIS_URL" },
        { "REDIS_URL", $"redis://u:{Canary}@h:6379/notadb", "REDIS_URL" },
        { "REDIS_URL", $"redis://u:{Canary}@:6379", "REDIS_URL" },
        { "DATABASE_URL", $"mysql://u:{Canary}@h/d", "not a postgres:// URL" },
        { "DATABASE_URL", $"postgres://u:{Canary}@h/d?sslmode=often", "sslmode" },
        { "JOBD_REDIS_CA_FILE", "/etc/ca.pem", "applies to TLS only" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task A_bad_variable_exits_78_with_one_line_naming_it(string name, string value, string expected)
    {
        foreach (var verb in new[] { "config", "run" })
        {
            var (code, stdout, stderr) = await Config(new[] { verb }, (name, value));
            Assert.Equal(78, code);
            Assert.Empty(stdout);
            var line = Assert.Single(stderr);
            Assert.StartsWith("jobd: configuration error: " + name + ": ", line);
            Assert.Contains(expected, line);
            Assert.DoesNotContain(Canary, line);
        }
    }

    [Fact]
    public async Task A_missing_ca_file_for_tls_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-ca-" + Guid.NewGuid() + ".pem");
        var (code, _, stderr) = await Config(new[] { "config" }, ("REDIS_URL", "rediss://h:6380"), ("JOBD_REDIS_CA_FILE", missing));
        Assert.Equal(78, code);
        Assert.Contains("JOBD_REDIS_CA_FILE: no file at", Assert.Single(stderr));
    }
}
