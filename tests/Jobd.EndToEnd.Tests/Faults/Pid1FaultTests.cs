using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// jobd as a container's PID 1 (RELIABILITY.md P12, and P1's "child process also gone"): `unshare -p -f
/// --mount-proc jobd run` gives it a PID namespace of its own, as docker run without --init does.
/// </summary>
public sealed class Pid1FaultTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Unshare = "/usr/bin/unshare";

    /// <summary>jobd under unshare, ready; returns the unshare process and jobd's pid as seen from here.</summary>
    private static async Task<(ChildProcess Unshare, int JobdPid)> StartAsPid1Async(FaultRun run, params (string, string)[] env)
    {
        var u = ChildProcess.Start(Unshare, new[] { "-p", "-f", "--mount-proc", JobdBinary.Path, "run" }, JobdBinary.Env(run.WorkerEnv(env)));
        run.Track(u);
        await u.Stderr.WaitAsync(l => l.Contains(" ready: queues", StringComparison.Ordinal), WorkerHarness.Startup, "jobd as PID 1 to be ready");
        Assert.Contains(u.Stderr.Snapshot(), l => l.Contains(", pid 1;", StringComparison.Ordinal));
        var children = Children(u.Pid);
        return (u, Assert.Single(children).Pid);
    }

    [Fact]
    public async Task P12_as_pid_1_jobd_reaps_the_orphans_of_exec_jobs_and_exits_0_on_sigterm()
    {
        await using var run = await FaultRun.StartAsync("P12");
        // The program exits at once and leaves a background sleep behind: orphaned, it is re-parented to PID 1.
        var (u, jobd) = await StartAsPid1Async(run, ("JOBD_ROUTE_orphan", "exec:/bin/sh -c 'sleep 2 </dev/null >/dev/null 2>&1 & exit 0'"));
        await run.EnqueueAsync(100, i => (i % 3, 0));
        var orphanJobs = await new WorkerHarness(run.RedisUrl, run.Probe).EnqueueAsync(WorkerHarness.Lines(5, "{\"type\":\"orphan\"}"));
        foreach (var id in orphanJobs) await WorkerHarness.LogLineAsync(u, $"job {id} orphan done", Wait);
        int adopted = 0;
        foreach (var c in Children(jobd))
            if (c.Comm == "sleep") adopted++;
        Assert.True(adopted > 0, "no orphaned sleep was re-parented to jobd");
        // Each sleep ends within 2 s; as PID 1, jobd must reap it, or it stays a zombie (state Z) for good.
        var deadline = DateTime.UtcNow + Wait;
        while (Children(jobd).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        var left = Children(jobd);
        Assert.True(left.Count == 0, "still children of jobd: " + string.Join(", ", left));
        await run.DrainAsync(Wait);
        using (var p = run.Probe())
            foreach (var id in orphanJobs)
            {
                Assert.Equal("done", (string?)p.Call("HGET", "{jobd}:job:" + id, "state"));
                p.Call("DEL", "{jobd}:job:" + id); // not ledger jobs: checked here, kept out of the ledger checker
            }
        // CheckAsync sends SIGTERM to unshare, which does not pass it on: jobd, PID 1, gets it directly.
        run.ExpectExit(u);
        ChildProcess.Signal(jobd, ChildProcess.SIGTERM);
        Assert.Equal(0, await u.WaitForExitAsync(Wait));
        Assert.Contains(u.Stderr.Snapshot(), l => l.Contains("stopped after", StringComparison.Ordinal));
        await run.CheckAsync();
        FaultTable.Record("P12", "jobd as PID 1 (unshare -p -f --mount-proc), exec jobs leaving a background sleep behind, then SIGTERM",
            $"{adopted} orphaned sleeps were re-parented to jobd and reaped when they ended (no zombie): .NET reaps every child when its pid is 1; SIGTERM handled as PID 1, exit 0",
            "I1–I5 hold");
    }

    [Fact]
    public async Task P1_kill_9_of_jobd_as_pid_1_takes_the_running_exec_program_with_it()
    {
        await using var run = await FaultRun.StartAsync("P1-exec");
        var (u, jobd) = await StartAsPid1Async(run, ("JOBD_ROUTE_long", "exec:/bin/sleep 30"));
        var id = (await new WorkerHarness(run.RedisUrl, run.Probe).EnqueueAsync("{\"type\":\"long\"}\n"))[0];
        await WorkerHarness.LogLineAsync(u, $"job {id} long started", Wait);
        int sleep = -1;
        var deadline = DateTime.UtcNow + Wait;
        while (sleep < 0 && DateTime.UtcNow < deadline)
        {
            foreach (var c in Children(jobd))
                if (c.Comm == "sleep") sleep = c.Pid;
            await Task.Delay(50);
        }
        Assert.True(sleep > 0, "the exec program did not start");
        run.ExpectExit(u);
        ChildProcess.Signal(jobd, ChildProcess.SIGKILL);
        await u.WaitForExitAsync(Wait);
        // The namespace's init died: the kernel kills every other process in it.
        deadline = DateTime.UtcNow + Wait;
        while (Directory.Exists("/proc/" + sleep.ToString(CultureInfo.InvariantCulture)) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.False(Directory.Exists("/proc/" + sleep.ToString(CultureInfo.InvariantCulture)), "the exec program outlived jobd");
        FaultTable.Record("P1b", "kill -9 of jobd as PID 1 while an exec job runs sleep 30",
            "the exec program died with it (the kernel ends a PID namespace with its init). Outside a PID namespace or a cgroup-killing supervisor, a kill -9'd worker's exec program is orphaned and runs on (measured: re-parented to init); systemd's KillMode=mixed ends it with the unit",
            "child gone; the job's recovery is P1");
    }

    private readonly record struct Proc(int Pid, char State, string Comm)
    {
        public override string ToString() => $"{Pid} {Comm} ({State})";
    }

    /// <summary>Processes whose parent is <paramref name="ppid"/>, from /proc (zombies included).</summary>
    private static List<Proc> Children(int ppid)
    {
        var result = new List<Proc>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(dir + "/stat"); }
            catch (IOException) { continue; }
            // "pid (comm) S ppid …": comm may hold spaces, so split around the last ')'.
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            if (open < 0 || close < open) continue;
            var rest = stat[(close + 2)..].Split(' ');
            if (rest.Length > 1 && int.TryParse(rest[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) && parent == ppid)
                result.Add(new Proc(pid, rest[0][0], stat[(open + 1)..close]));
        }
        return result;
    }
}
