using System;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Jobd.Queue;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>PROTOCOL.md is a contract: its script is the real one, and its examples work as written.</summary>
public sealed class ProtocolDocumentTests
{
    private static readonly string Doc = File.ReadAllText(RepoPaths.File("src", "Jobd.Queue", "PROTOCOL.md"));

    private static string Block(string language)
    {
        var m = Regex.Match(Doc, "```" + language + "\n(.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, "PROTOCOL.md has no ```" + language + " block");
        return m.Groups[1].Value;
    }

    [Fact]
    public void The_documented_script_is_the_shipped_script()
    {
        Assert.Equal(QueueScripts.Source("enqueue.lua"), Block("lua"));
    }

    [Fact]
    public async Task The_redis_cli_example_enqueues_a_job()
    {
        using var db = await TestRedis.LeaseAsync();
        var dir = Directory.CreateTempSubdirectory("jobd-proto-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "enqueue.lua"), QueueScripts.Source("enqueue.lua"));
            var example = Block("sh").Replace("redis-cli ", $"redis-cli -h {db.Host} -p {db.Port} -n {db.Index} ");
            await using var sh = ChildProcess.Start("/bin/sh", new[] { "-c", example },
                new System.Collections.Generic.Dictionary<string, string> { ["PATH"] = "/usr/local/bin:/usr/bin:/bin" }, dir);
            Assert.Equal(0, await sh.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(new[] { "1", "01JD3XKQ7Q0000000000000001", "ready" }, sh.Stdout.Snapshot());
            using var p = db.Probe();
            Assert.Equal("send_reminder", p.Call("HGET", "{jobd}:job:01JD3XKQ7Q0000000000000001", "type"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task The_python_example_enqueues_with_plain_redis_py()
    {
        using var db = await TestRedis.LeaseAsync();
        var dir = Directory.CreateTempSubdirectory("jobd-proto-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "enqueue.lua"), QueueScripts.Source("enqueue.lua"));
            var program = Block("python").Replace("redis://127.0.0.1:6379/0", db.Url)
                          + "\nprint(enqueue_job(\"t\", {}, unique=\"reminder:42\"))\n";
            await File.WriteAllTextAsync(Path.Combine(dir, "producer.py"), program);
            // Debian's interpreter, where python3-redis installs (not a pyenv or venv python earlier on PATH).
            await using var py = ChildProcess.Start("/usr/bin/python3", new[] { "producer.py" },
                new System.Collections.Generic.Dictionary<string, string> { ["PATH"] = "/usr/local/bin:/usr/bin:/bin" }, dir);
            int code = await py.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(code == 0, "python3 failed (is Debian's python3-redis installed? `make setup` installs it):\n" + string.Join("\n", py.Stderr.Snapshot()));
            var line = Assert.Single(py.Stdout.Snapshot());
            Assert.EndsWith(", 'duplicate')", line);
            using var p = db.Probe();
            Assert.Equal(1L, p.Call("ZCARD", "{jobd}:scheduled"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
