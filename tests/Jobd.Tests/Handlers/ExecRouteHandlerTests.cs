using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers;
using Jobd.Handlers.Exec;
using Xunit;
using static Jobd.Tests.Handlers.HandlerTestJobs;

namespace Jobd.Tests.Handlers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ExecRouteHandlerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jobd-exec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Script(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static ExecRouteHandler Handler(string route, Dictionary<string, string>? jobdEnv = null, params (string, string)[] more)
    {
        var pairs = new List<(string, string)> { ("JOBD_ROUTE_t1", "exec:" + route) };
        pairs.AddRange(more);
        var table = Routes(pairs.ToArray());
        return new ExecRouteHandler(table.ByType[0].Route, table, jobdEnv ?? new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" });
    }

    private static async Task<JobOutcome> Run(IJobHandler h, string args = "{\"a\":1}", int timeoutMs = 20_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        return await h.RunAsync(Job(args: args), cts.Token);
    }

    [Fact]
    public async Task Exit_0_succeeds_with_json_stdout_and_the_job_on_stdin()
    {
        var s = Script("ok.sh", "cat");
        var outcome = await Run(Handler(s), args: "{\"n\":7}");
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Contains("\"args\":{\"n\":7}", outcome.Result);
        Assert.StartsWith("{\"id\":\"j-", outcome.Result);
    }

    [Fact]
    public async Task Text_stdout_becomes_a_json_string()
    {
        var outcome = await Run(Handler(Script("t.sh", "echo hello")));
        Assert.Equal("\"hello\\n\"", outcome.Result);
    }

    [Fact]
    public async Task Exit_75_retries_and_other_codes_fail_with_the_stderr_tail()
    {
        var retry = await Run(Handler(Script("r.sh", "echo later >&2; exit 75")));
        Assert.Equal(OutcomeKind.Retry, retry.Kind);
        Assert.Equal("exec: exit 75: later", retry.Error);
        var fail = await Run(Handler(Script("f.sh", "echo broken >&2; exit 1")));
        Assert.Equal(OutcomeKind.Failed, fail.Kind);
        Assert.Equal("exec: exit 1: broken", fail.Error);
    }

    [Fact]
    public async Task A_missing_program_fails_for_good()
    {
        var outcome = await Run(Handler(Path.Combine(_dir, "nope")));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
    }

    [Fact]
    public async Task Large_stdout_is_cut_at_the_limit_and_the_program_is_not_blocked()
    {
        // 900 KB: far past the pipe's 64 KB, short of the 1 MiB flood cap.
        var s = Script("big.sh", "head -c 900000 /dev/zero | tr '\\0' 'y'");
        var outcome = await Run(Handler(s, null, ("JOBD_MAX_RESULT_BYTES", "1KB")));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Equal("{\"truncated\":true,\"text\":\"" + new string('y', 1024) + "\"}", outcome.Result);
    }

    [Fact]
    public async Task A_program_flooding_stdout_is_ended_at_the_cap_and_fails_for_good()
    {
        // `yes` in a child of a shell that waits: both are ended, well before the job's 5 minutes. Each writes its
        // pid before any output, so both are known before the flood.
        var pids = Path.Combine(_dir, "pids");
        var s = Script("flood.sh", "echo $$ >> " + pids + "\n/bin/sh -c 'echo $$ >> " + pids + "; exec /usr/bin/yes' &\nwait");
        var outcome = await Run(Handler(s), timeoutMs: 300_000);
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("exec: output_too_large (more than 1048576 bytes on stdout)", outcome.Error);
        await AssertGone(pids);
    }

    [Fact]
    public async Task The_flood_cap_is_four_results_when_that_is_more_than_1_MiB()
    {
        var s = Script("flood.sh", "exec /usr/bin/yes");
        var outcome = await Run(Handler(s, null, ("JOBD_MAX_RESULT_BYTES", "1MB")), timeoutMs: 300_000);
        Assert.Equal("exec: output_too_large (more than 4194304 bytes on stdout)", outcome.Error);
    }

    [Theory]
    [InlineData("/bin/true", OutcomeKind.Succeeded)]
    [InlineData("/bin/false", OutcomeKind.Failed)]
    public async Task A_program_that_ignores_a_10_MB_stdin_is_judged_by_its_exit_code(string program, OutcomeKind expected)
    {
        // The program exits without reading: the write of the envelope meets EPIPE, which is not the job's outcome.
        var args = "{\"blob\":\"" + new string('b', 10 << 20) + "\"}";
        var outcome = await Run(Handler(program), args: args);
        Assert.Equal(expected, outcome.Kind);
        if (expected == OutcomeKind.Failed) Assert.Equal("exec: exit 1", outcome.Error);
        else Assert.Null(outcome.Result);
    }

    [Fact]
    public async Task The_program_runs_in_jobd_exec_dir()
    {
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work dir")).FullName;
        var outcome = await Run(Handler("/bin/pwd", null, ("JOBD_EXEC_DIR", work)));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(work + "\n", TestJson.Default.String), outcome.Result);
    }

    [Fact]
    public async Task A_custom_exec_env_passes_exactly_its_variables()
    {
        var env = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin", ["HOME"] = "/root", ["APP_MODE"] = "blue", ["APP_REGION"] = "eu", ["DATABASE_URL"] = "postgres://u:pw@h/db",
        };
        var outcome = await Run(Handler("/usr/bin/env", env, ("JOBD_EXEC_ENV", "APP_MODE,APP_REGION,NOT_SET_ANYWHERE")));
        var lines = new List<string>(System.Text.Json.JsonSerializer.Deserialize(outcome.Result!, TestJson.Default.String)!
            .Split('\n', StringSplitOptions.RemoveEmptyEntries));
        lines.Sort(StringComparer.Ordinal);
        Assert.Equal(5, lines.Count);
        Assert.Equal("APP_MODE=blue", lines[0]);
        Assert.Equal("APP_REGION=eu", lines[1]);
        Assert.StartsWith("JOBD_JOB_ATTEMPT=1", lines[2]);
        Assert.StartsWith("JOBD_JOB_ID=j-", lines[3]);
        Assert.Equal("JOBD_JOB_TYPE=t1", lines[4]);
    }

    [Fact]
    public async Task A_background_process_holding_stdout_does_not_hold_the_job()
    {
        var pidFile = Path.Combine(_dir, "bg");
        var s = Script("bg.sh", "sleep 30 & echo $! > " + pidFile + "; echo '{\"started\":true}'; exit 0");
        try
        {
            var outcome = await Run(Handler(s), timeoutMs: 20_000);
            Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
            Assert.Equal("{\"started\":true}\n", outcome.Result);
        }
        finally
        {
            if (File.Exists(pidFile)) System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim())).Kill();
        }
    }

    [Fact]
    public async Task The_environment_holds_only_the_allowlist_and_the_job_variables()
    {
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["SECRET_TOKEN"] = "hunter2", ["LANG"] = "C.UTF-8" };
        var outcome = await Run(Handler(Script("env.sh", "env | sort"), env));
        var text = System.Text.Json.JsonSerializer.Deserialize<string>(outcome.Result!, Jobd.Tests.Handlers.TestJson.Default.String)!;
        Assert.DoesNotContain("SECRET_TOKEN", text);
        Assert.DoesNotContain("hunter2", text);
        Assert.Contains("LANG=C.UTF-8\n", text);
        Assert.Contains("PATH=/usr/bin:/bin\n", text);
        Assert.Contains("JOBD_JOB_TYPE=t1\n", text);
        Assert.Contains("JOBD_JOB_ATTEMPT=1\n", text);
        Assert.Contains("JOBD_JOB_ID=j-", text);
    }

    [Fact]
    public async Task Shell_metacharacters_in_arguments_and_args_execute_nothing()
    {
        var marker = Path.Combine(_dir, "pwned");
        var s = Script("argv.sh", "for a in \"$@\"; do printf '%s|' \"$a\"; done; cat >/dev/null");
        var outcome = await Run(Handler(s + " '; touch " + marker + "' '$(touch " + marker + ")' '`touch " + marker + "`'"),
            args: "{\"x\":\"$(touch " + marker + "); `touch " + marker + "` | touch " + marker + "\"}");
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Contains("; touch " + marker + "|$(touch " + marker + ")|", outcome.Result);
        Assert.False(File.Exists(marker));
    }

    /// <summary>A script whose shell and grandchild both ignore SIGTERM; each writes its pid once it runs.</summary>
    private (string Script, string Pids) StubbornTree()
    {
        var pids = Path.Combine(_dir, "pids");
        var s = Script("tree.sh",
            "trap '' TERM\n" +
            "(trap '' TERM; sh -c 'trap \"\" TERM; echo $$ >> " + pids + "; while :; do sleep 1; done' & wait) &\n" +
            "echo $$ >> " + pids + "\n" +
            "while :; do sleep 1; done");
        return (s, pids);
    }

    private static async Task AssertGone(string pids)
    {
        var all = File.ReadAllLines(pids);
        Assert.Equal(2, all.Length);
        foreach (var line in all)
        {
            int pid = int.Parse(line);
            // Gone, or at most a zombie of an orphan that init has yet to reap: wait for init.
            for (int i = 0; i < 200 && File.Exists("/proc/" + pid + "/stat"); i++) await Task.Delay(25);
            Assert.False(File.Exists("/proc/" + pid + "/stat"), "pid " + pid + " still exists");
        }
    }

    private static async Task<bool> BothStarted(string pids)
    {
        for (int i = 0; i < 400; i++)
        {
            if (File.Exists(pids) && File.ReadAllLines(pids).Length == 2) return true;
            await Task.Delay(25);
        }
        return false;
    }

    [Fact]
    public async Task A_timeout_kills_the_whole_tree_including_a_child_that_ignores_sigterm_and_retries()
    {
        var (script, pids) = StubbornTree();
        var registry = new HandlerRegistry().Register("t1", Handler(script));
        var runner = new Jobd.Runtime.JobRunner(registry, TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(1));
        var settlement = await runner.RunAsync(Job(), CancellationToken.None, CancellationToken.None);
        Assert.Equal(Jobd.Queue.SettleKind.Retry, settlement.Kind);
        Assert.Equal("timeout after 1.5s", settlement.Text);
        await AssertGone(pids);
    }

    [Fact]
    public async Task A_shutdown_kills_the_whole_tree_and_puts_the_job_back()
    {
        var (script, pids) = StubbornTree();
        var registry = new HandlerRegistry().Register("t1", Handler(script));
        var runner = new Jobd.Runtime.JobRunner(registry, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(100));
        using var graceful = new CancellationTokenSource();
        var run = runner.RunAsync(Job(), graceful.Token, CancellationToken.None);
        Assert.True(await BothStarted(pids), "the script did not start its tree");
        graceful.Cancel();
        var settlement = await run;
        Assert.Equal(Jobd.Queue.SettleKind.Requeue, settlement.Kind);
        await AssertGone(pids);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext
{
}
