using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>`jobd enqueue` as a producer's script uses it, against a real redis-server.</summary>
public sealed class EnqueueVerbTests : IAsyncLifetime
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);
    private RedisTestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestRedis.LeaseAsync();

    public Task DisposeAsync()
    {
        _db.Dispose();
        return Task.CompletedTask;
    }

    private async Task<(int Code, IReadOnlyList<string> Out, IReadOnlyList<string> Err)> Jobd(string? stdin, params string[] args)
    {
        await using var p = JobdBinary.Start(args, JobdBinary.Env(("REDIS_URL", _db.Url)));
        if (stdin is not null) await p.Stdin.WriteAsync(stdin);
        p.Stdin.Close();
        int code = await p.WaitForExitAsync(Quick);
        return (code, p.Stdout.Snapshot(), p.Stderr.Snapshot());
    }

    [Fact]
    public async Task A_job_is_enqueued_and_its_id_printed()
    {
        var (code, stdout, stderr) = await Jobd(null, "enqueue", "send_reminder", "{\"user_id\":42}", "--queue", "critical", "--max-attempts", "5", "--timeout", "30s");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        var id = Assert.Single(stdout);
        using var p = _db.Probe();
        Assert.Equal(id, p.Call("LINDEX", "{jobd}:q:critical", "0"));
        Assert.Equal("{\"user_id\":42}", p.Call("HGET", "{jobd}:job:" + id, "args"));
        Assert.Equal("5", p.Call("HGET", "{jobd}:job:" + id, "max_attempts"));
        Assert.Equal("30000", p.Call("HGET", "{jobd}:job:" + id, "timeout_ms"));
    }

    [Fact]
    public async Task Arguments_can_come_from_stdin()
    {
        var (code, stdout, _) = await Jobd("{\"big\": [1, 2, 3]}\n", "enqueue", "t", "-");
        Assert.Equal(0, code);
        using var p = _db.Probe();
        Assert.Equal("{\"big\": [1, 2, 3]}\n", p.Call("HGET", "{jobd}:job:" + Assert.Single(stdout), "args"));
    }

    [Fact]
    public async Task A_duplicate_exits_0_prints_the_holder_and_says_so()
    {
        var (_, first, _) = await Jobd(null, "enqueue", "t", "--unique", "nightly", "--in", "1h", "--json");
        var (code, second, stderr) = await Jobd(null, "enqueue", "t", "--unique", "nightly");
        Assert.Equal(0, code);
        Assert.Contains("\"state\":\"scheduled\"", Assert.Single(first));
        Assert.Contains(Assert.Single(second), first[0]);
        Assert.Contains("duplicate", Assert.Single(stderr));
        var (_, json, _) = await Jobd(null, "enqueue", "t", "--unique", "nightly", "--json");
        Assert.Contains("\"state\":\"duplicate\"", Assert.Single(json));
    }

    [Theory]
    [InlineData(65, "args: not valid JSON", "enqueue", "t", "{\"id\":\"1\",\"ty")]
    [InlineData(65, "args: must be a JSON object", "enqueue", "t", "[1]")]
    [InlineData(65, "type: a job type is", "enqueue", "x\ny")]
    [InlineData(65, "queue: a queue name is", "enqueue", "t", "--queue", "{evil}")]
    [InlineData(65, "in: \"soon\" is not a duration", "enqueue", "t", "--in", "soon")]
    [InlineData(65, "at: \"tomorrow\" is not an RFC 3339 time", "enqueue", "t", "--at", "tomorrow")]
    [InlineData(65, "max attempts: must be from 1 to 1000", "enqueue", "t", "--max-attempts", "0")]
    [InlineData(65, "give --in or --at, not both", "enqueue", "t", "--in", "1m", "--at", "2030-01-01T00:00:00Z")]
    [InlineData(64, "needs a job TYPE", "enqueue")]
    [InlineData(64, "flag --queue of `jobd enqueue` needs a value", "enqueue", "t", "--queue")]
    [InlineData(64, "--batch takes the jobs from stdin", "enqueue", "--batch", "t")]
    public async Task Bad_jobs_are_refused_with_one_line_and_nothing_enqueued(int expectedCode, string expected, params string[] args)
    {
        var (code, stdout, stderr) = await Jobd(null, args);
        Assert.Equal(expectedCode, code);
        Assert.Empty(stdout);
        Assert.Contains(expected, Assert.Single(stderr));
        using var p = _db.Probe();
        Assert.Equal(0L, p.Call("DBSIZE"));
    }

    [Fact]
    public async Task Oversized_arguments_name_the_limit()
    {
        var big = "{\"a\":\"" + new string('x', 3000) + "\"}";
        await using var p = JobdBinary.Start(new[] { "enqueue", "t", big }, JobdBinary.Env(("REDIS_URL", _db.Url), ("JOBD_MAX_JOB_BYTES", "2KB")));
        Assert.Equal(65, await p.WaitForExitAsync(Quick));
        Assert.Contains("exceed the limit of 2048 bytes (JOBD_MAX_JOB_BYTES)", Assert.Single(p.Stderr.Snapshot()));
    }

    [Fact]
    public async Task A_batch_prints_one_id_per_job_in_order()
    {
        var lines = new System.Text.StringBuilder();
        for (int i = 0; i < 1234; i++) lines.Append("{\"type\":\"t\",\"args\":{\"n\":").Append(i).Append("}}\n");
        lines.Append('\n').Append("{\"type\":\"later\",\"queue\":\"low\",\"in\":\"1h\",\"unique\":\"k\",\"max_attempts\":2,\"timeout\":\"5s\"}\n");
        var (code, stdout, stderr) = await Jobd(lines.ToString(), "enqueue", "--batch");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        Assert.Equal(1235, stdout.Count);
        using var p = _db.Probe();
        Assert.Equal(1234L, p.Call("LLEN", "{jobd}:q:default"));
        Assert.Equal("{\"n\":0}", p.Call("HGET", "{jobd}:job:" + stdout[0], "args"));
        Assert.Equal("{\"n\":1233}", p.Call("HGET", "{jobd}:job:" + stdout[1233], "args"));
        Assert.Equal("2", p.Call("HGET", "{jobd}:job:" + stdout[1234], "max_attempts"));
        Assert.Equal(1L, p.Call("ZCARD", "{jobd}:scheduled"));
    }

    [Fact]
    public async Task A_bad_batch_line_stops_after_enqueueing_every_line_before_it()
    {
        var input = "{\"type\":\"a\"}\n{\"type\":\"b\"}\n{\"type\":\"c\",\"bogus\":true}\n{\"type\":\"d\"}\n";
        var (code, stdout, stderr) = await Jobd(input, "enqueue", "--batch");
        Assert.Equal(65, code);
        Assert.Equal(2, stdout.Count);
        var line = Assert.Single(stderr);
        Assert.Contains("line 3", line);
        Assert.Contains("$.bogus", line);
        Assert.Contains("the 2 job(s) before it were enqueued, nothing after it", line);
        using var p = _db.Probe();
        Assert.Equal(2L, p.Call("LLEN", "{jobd}:q:default"));
    }

    [Fact]
    public async Task A_refused_batch_job_leaves_an_empty_line_and_exit_65()
    {
        var input = "{\"type\":\"a\",\"id\":\"fixed-1\"}\n{\"type\":\"b\",\"id\":\"fixed-1\"}\n{\"type\":\"c\"}\n";
        var (code, stdout, stderr) = await Jobd(input, "enqueue", "--batch");
        Assert.Equal(65, code);
        Assert.Equal(3, stdout.Count);
        Assert.Equal("fixed-1", stdout[0]);
        Assert.Equal("", stdout[1]);
        Assert.Contains("line 2: redis refused the job: ERR jobd: job fixed-1 exists", Assert.Single(stderr));
    }

    [Fact]
    public async Task Redis_unavailable_is_exit_69_with_the_redacted_address()
    {
        int port = FreePort.Next();
        await using var p = JobdBinary.Start(new[] { "enqueue", "t" },
            JobdBinary.Env(("REDIS_URL", $"redis://:CANARY-pw@127.0.0.1:{port}/0"), ("JOBD_REDIS_CONNECT_TIMEOUT", "300ms")));
        Assert.Equal(69, await p.WaitForExitAsync(Quick));
        var line = Assert.Single(p.Stderr.Snapshot());
        Assert.Contains("redis unavailable at redis://:***@127.0.0.1:" + port, line);
        Assert.DoesNotContain("CANARY", line);
    }
}
