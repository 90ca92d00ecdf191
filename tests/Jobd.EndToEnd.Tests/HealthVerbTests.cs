using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>`jobd health`, as a container HEALTHCHECK runs it: exit 0 or 1 and one line on stdout.</summary>
public sealed class HealthVerbTests : WorkerTest
{
    private async Task<(int Code, string Line)> HealthAsync(params (string, string)[] env)
    {
        var vars = new System.Collections.Generic.List<(string, string)> { ("REDIS_URL", Db.Url) };
        vars.AddRange(env);
        await using var p = JobdBinary.Start(new[] { "health" }, JobdBinary.Env(vars.ToArray()));
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Empty(p.Stderr.Snapshot());
        return (code, Assert.Single(p.Stdout.Snapshot()));
    }

    /// <summary>Runs `jobd health` until it exits with <paramref name="code"/> (the worker's state changes on its own time).</summary>
    private async Task<string> UntilAsync(int code, TimeSpan timeout, params (string, string)[] env)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            var (c, line) = await HealthAsync(env);
            if (c == code) return line;
            if (DateTime.UtcNow > end) throw new TimeoutException($"jobd health still says \"{line}\" (exit {c}) after {timeout.TotalSeconds}s");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task A_running_worker_of_this_host_is_healthy()
    {
        await using var worker = await H.StartWorkerAsync();
        // The first heartbeat is the first control tick, right after start.
        var line = await UntilAsync(0, TimeSpan.FromSeconds(15));
        Assert.Matches($@"^healthy: worker jobd:[^:]+:{worker.Pid}:[0-9a-z]{{6}} heartbeat \d+\.\ds ago$", line);
    }

    [Fact]
    public async Task No_worker_is_unhealthy()
    {
        var (code, line) = await HealthAsync();
        Assert.Equal(1, code);
        Assert.StartsWith("unhealthy: no worker of host ", line);
    }

    [Fact]
    public async Task A_worker_that_is_gone_is_unhealthy()
    {
        var worker = await H.StartWorkerAsync();
        await UntilAsync(0, TimeSpan.FromSeconds(15));
        worker.Signal(ChildProcess.SIGKILL);
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(5));
        await worker.DisposeAsync();
        var (code, line) = await HealthAsync();
        Assert.Equal(1, code);
        Assert.Equal("unhealthy: no live jobd process of this host is registered (1 entry left by processes that are gone)", line);
    }

    [Fact]
    public async Task A_stopped_worker_turns_unhealthy_and_healthy_again_when_it_resumes()
    {
        // Limit: the 10 s idle tick plus three heartbeats of 500 ms.
        await using var worker = await H.StartWorkerAsync(("JOBD_HEARTBEAT", "500ms"));
        await UntilAsync(0, TimeSpan.FromSeconds(15), ("JOBD_HEARTBEAT", "500ms"));
        worker.Signal(ChildProcess.SIGSTOP);
        try
        {
            var line = await UntilAsync(1, TimeSpan.FromSeconds(40), ("JOBD_HEARTBEAT", "500ms"));
            Assert.Matches($@"^unhealthy: worker jobd:[^:]+:{worker.Pid}:\w+ heartbeat \d+\.\ds ago \(limit 11\.5s\)$", line);
        }
        finally
        {
            worker.Signal(ChildProcess.SIGCONT);
        }
        await UntilAsync(0, TimeSpan.FromSeconds(30), ("JOBD_HEARTBEAT", "500ms"));
    }

    /// <summary>
    /// A Redis that accepts connections and never answers: the whole check, connect and query, gives up within
    /// HealthVerb's 3 s budget, far inside the HEALTHCHECK's 10 s timeout, though the connect timeout is 5 s. With a
    /// password the silence comes at the connect (AUTH), without one at the query.
    /// </summary>
    [Theory]
    [InlineData(":pw@", "unhealthy: redis unavailable at ")]
    [InlineData("", "unhealthy: redis did not answer in time")]
    public async Task A_silent_redis_is_unhealthy_within_the_three_second_budget(string auth, string want)
    {
        await using var silent = new FaultProxy(Db.Host, Db.Port) { Mode = ProxyMode.Blackhole };
        var started = DateTime.UtcNow;
        await using var p = JobdBinary.Start(new[] { "health" },
            JobdBinary.Env(("REDIS_URL", $"redis://{auth}127.0.0.1:{silent.Port}/0"), ("JOBD_REDIS_CONNECT_TIMEOUT", "5s")));
        Assert.Equal(1, await p.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var took = DateTime.UtcNow - started;
        var line = Assert.Single(p.Stdout.Snapshot());
        Assert.StartsWith(want, line);
        if (auth.Length > 0) Assert.EndsWith("(gave up after 3s)", line);
        // Not a speed check: the old bound was connect 5 s + query 5 s, which met the HEALTHCHECK's 10 s timeout.
        Assert.True(took < TimeSpan.FromSeconds(9), $"jobd health took {took.TotalSeconds:0.0}s");
    }

    [Fact]
    public async Task Redis_down_is_unhealthy_with_exit_1()
    {
        int port = FreePort.Next();
        await using var p = JobdBinary.Start(new[] { "health" },
            JobdBinary.Env(("REDIS_URL", $"redis://127.0.0.1:{port}/0"), ("JOBD_REDIS_CONNECT_TIMEOUT", "500ms")));
        Assert.Equal(1, await p.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(p.Stdout.Snapshot());
        Assert.StartsWith($"unhealthy: redis unavailable at redis://127.0.0.1:{port}/0", line);
        Assert.Empty(p.Stderr.Snapshot());
    }
}
