using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Testing;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// One fault scenario: a throwaway Redis (AOF always, a password that serves as the secret canary), workers that run
/// the `ledger` handler, the faults injected and when, and at the end the checker over ledger, Redis and logs.
/// </summary>
public sealed class FaultRun : IAsyncDisposable
{
    public const string Canary = "canary-pw-7f3e9c";
    public static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(500);

    /// <summary>I3's T_rec = 2·HB + tick + 1 s; a busy worker ticks every heartbeat.</summary>
    public static readonly TimeSpan RecoveryBound = Heartbeat * 3 + TimeSpan.FromSeconds(1);

    private readonly List<(ChildProcess Worker, bool Killed)> _workers = new();
    private readonly Dictionary<string, int> _expected = new(StringComparer.Ordinal);
    private readonly List<string> _ids = new();
    private readonly List<FaultEvent> _faults = new();
    private readonly object _gate = new();

    public string Scenario { get; }
    public int Seed { get; }
    public RedisServer Redis { get; }
    public string LedgerDir { get; }
    public string RedisUrl => $"redis://{ProbeUser ?? "default"}:{Canary}@{Redis.Host}:{Redis.Port}/0";

    /// <summary>The ACL user the test's own clients (probe, enqueue) use, for scenarios that turn `default` off.</summary>
    public string? ProbeUser { get; set; }

    /// <summary>Texts no output may contain (I4): the Redis password, and any canary the scenario adds.</summary>
    public List<string> Secrets { get; } = new() { Canary };
    public IReadOnlyList<string> Ids => _ids;
    public IReadOnlyList<FaultEvent> Faults => _faults;

    private FaultRun(string scenario, int seed, RedisServer redis, string ledgerDir)
    {
        Scenario = scenario;
        Seed = seed;
        Redis = redis;
        LedgerDir = ledgerDir;
    }

    public static async Task<FaultRun> StartAsync(string scenario, int seed = 0, params string[] redisArgs)
    {
        var args = new List<string> { "--appendonly", "yes", "--appendfsync", "always", "--requirepass", Canary };
        args.AddRange(redisArgs);
        var redis = await RedisServer.StartAsync(args.ToArray());
        var dir = Directory.CreateTempSubdirectory("jobd-ledger-").FullName;
        return new FaultRun(scenario, seed, redis, dir);
    }

    public RedisProbe Probe() => new(Redis.Host, Redis.Port, 0, Canary, ProbeUser);

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public (string, string)[] WorkerEnv(params (string, string)[] extra)
    {
        var env = new List<(string, string)>
        {
            ("REDIS_URL", RedisUrl), ("JOBD_LOG_JOBS", "1"), ("JOBD_LEDGER_DIR", LedgerDir),
            ("JOBD_HEARTBEAT", "500ms"), ("JOBD_SHUTDOWN_TIMEOUT", "2s"),
        };
        env.AddRange(extra);
        return env.ToArray();
    }

    public async Task<ChildProcess> StartWorkerAsync(params (string, string)[] extra)
    {
        var w = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(WorkerEnv(extra)));
        lock (_gate) _workers.Add((w, false));
        await w.Stderr.WaitAsync(l => l.Contains(" ready: queues", StringComparison.Ordinal), WorkerHarness.Startup, "the worker to be ready");
        return w;
    }

    /// <summary>A worker started by other means (a wrapper such as faketime or prlimit), tracked like the others.</summary>
    public void Track(ChildProcess worker)
    {
        lock (_gate) _workers.Add((worker, false));
    }

    public IReadOnlyList<ChildProcess> Alive()
    {
        var alive = new List<ChildProcess>();
        lock (_gate)
            foreach (var (w, killed) in _workers)
                if (!killed && !w.HasExited) alive.Add(w);
        return alive;
    }

    /// <summary>Enqueues ledger jobs; succeedOnAttempt &gt; 1 makes them fail retryably before it.</summary>
    public async Task<string[]> EnqueueAsync(int count, Func<int, (int Ms, int SucceedOnAttempt)> shape)
    {
        var sb = new StringBuilder();
        var attempts = new int[count];
        for (int i = 0; i < count; i++)
        {
            var (ms, succeed) = shape(i);
            attempts[i] = Math.Max(1, succeed);
            sb.Append("{\"type\":\"ledger\",\"args\":{\"ms\":").Append(ms);
            if (succeed > 1) sb.Append(",\"succeed_on_attempt\":").Append(succeed);
            sb.Append("}}\n");
        }
        var h = new WorkerHarness(RedisUrl, Probe);
        var ids = await h.EnqueueAsync(sb.ToString());
        if (ids.Length != count) throw new InvalidOperationException($"enqueued {ids.Length} of {count}");
        lock (_gate)
            for (int i = 0; i < count; i++)
            {
                _expected[ids[i]] = attempts[i];
                _ids.Add(ids[i]);
            }
        return ids;
    }

    /// <summary>Enqueues one ledger job per args object (such as {"hang_ms":60000}); each should succeed at attempt 1.</summary>
    public async Task<string[]> EnqueueArgsAsync(params string[] argsJson)
    {
        var sb = new StringBuilder();
        foreach (var a in argsJson) sb.Append("{\"type\":\"ledger\",\"args\":").Append(a).Append("}\n");
        var ids = await new WorkerHarness(RedisUrl, Probe).EnqueueAsync(sb.ToString());
        if (ids.Length != argsJson.Length) throw new InvalidOperationException($"enqueued {ids.Length} of {argsJson.Length}");
        lock (_gate)
            foreach (var id in ids)
            {
                _expected[id] = 1;
                _ids.Add(id);
            }
        return ids;
    }

    /// <summary>Ledger jobs enqueued by other means (the CLI with options of its own): checked like the others.</summary>
    public void Adopt(IEnumerable<string> ids)
    {
        lock (_gate)
            foreach (var id in ids)
            {
                if (id.Length == 0 || !_expected.TryAdd(id, 1)) continue;
                _ids.Add(id);
            }
    }

    /// <summary>A worker ended by itself (a self-kill): recorded like a kill, at the moment the test saw it.</summary>
    public async Task<int> WaitForSelfExitAsync(ChildProcess w, TimeSpan timeout)
    {
        int code = await w.WaitForExitAsync(timeout);
        Record(FaultKind.Exit, w.Pid, $"pid {w.Pid} exited by itself with code {code}");
        ExpectExit(w);
        return code;
    }

    /// <summary>A job the test wrote itself (raw, past the enqueue script): it too must end done or dead (I1).</summary>
    public void Adopt(string id)
    {
        lock (_gate)
        {
            // Any id, the empty one included: a raw job may be written under it, and must end done or dead too.
            _expected[id] = 1;
            _ids.Add(id);
        }
    }

    public void Record(FaultKind kind, int pid, string what)
    {
        lock (_gate) _faults.Add(new FaultEvent(kind, NowMs(), pid, what));
    }

    public async Task KillAsync(ChildProcess w)
    {
        Record(FaultKind.Kill, w.Pid, "kill -9 of pid " + w.Pid);
        lock (_gate)
            for (int i = 0; i < _workers.Count; i++)
                if (ReferenceEquals(_workers[i].Worker, w)) _workers[i] = (w, true);
        w.Signal(ChildProcess.SIGKILL);
        await w.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public void Stop(ChildProcess w)
    {
        Record(FaultKind.Stop, w.Pid, "SIGSTOP of pid " + w.Pid);
        w.Signal(ChildProcess.SIGSTOP);
    }

    public void Cont(ChildProcess w)
    {
        Record(FaultKind.Cont, w.Pid, "SIGCONT of pid " + w.Pid);
        w.Signal(ChildProcess.SIGCONT);
    }

    public async Task RestartRedisAsync()
    {
        Record(FaultKind.RedisRestart, 0, "redis kill -9 and AOF restart");
        await Redis.RestartAsync();
    }

    public object? RedisCommand(FaultKind kind, params string[] command)
    {
        Record(kind, 0, string.Join(' ', command));
        using var p = Probe();
        return p.Call(command);
    }

    /// <summary>Waits until every enqueued job is done or dead (polling Redis only for those not yet settled).</summary>
    /// <param name="except">A job the scenario holds back on purpose, not waited for this time.</param>
    public async Task DrainAsync(TimeSpan timeout, string? except = null)
    {
        var pending = new HashSet<string>(_ids, StringComparer.Ordinal);
        if (except is not null) pending.Remove(except);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var p = Probe();
                var settled = new List<string>();
                foreach (var id in pending)
                {
                    var s = (string?)p.Call("HGET", "{jobd}:job:" + id, "state");
                    if (s is "done" or "dead") settled.Add(id);
                }
                foreach (var id in settled) pending.Remove(id);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or EndOfStreamException or InvalidOperationException)
            {
                // Redis is being restarted by the scenario: look again.
            }
            if (pending.Count == 0) return;
            if (DateTime.UtcNow > deadline)
            {
                var c = new LedgerChecker(Scenario, Seed);
                int n = 0;
                foreach (var id in pending)
                    if (n++ < 20) c.Add("I1", id, "not settled within " + timeout.TotalSeconds + " s: " + Describe(id));
                c.Add("I1", "-", pending.Count + " job(s) unsettled; workers alive: " + Alive().Count);
                c.Throw();
            }
            await Task.Delay(200);
        }
    }

    private string Describe(string id)
    {
        using var p = Probe();
        var fields = (object?[]?)p.Call("HGETALL", "{jobd}:job:" + id) ?? Array.Empty<object?>();
        var sb = new StringBuilder();
        for (int i = 0; i + 1 < fields.Length; i += 2)
            if ((string?)fields[i] is "state" or "attempt" or "recoveries" or "worker" or "last_error") sb.Append(fields[i]).Append('=').Append(fields[i + 1]).Append(' ');
        return sb.ToString();
    }

    /// <summary>
    /// Checks every invariant; throws with the scenario, seed and offending ids. Live workers are first checked
    /// for I5, then stopped with SIGTERM (exit 0 expected) so that every line they wrote has been read.
    /// </summary>
    public async Task<LedgerChecker> CheckAsync()
    {
        var checker = new LedgerChecker(Scenario, Seed) { AttemptsMayGrow = AttemptsMayGrow };
        List<(ChildProcess Worker, bool Killed)> ws;
        lock (_gate) ws = new List<(ChildProcess, bool)>(_workers);
        checker.CheckAlive(ws);
        foreach (var (w, killed) in ws)
        {
            if (killed || w.HasExited) continue;
            w.Signal(ChildProcess.SIGCONT);
            w.Signal(ChildProcess.SIGTERM);
        }
        foreach (var (w, killed) in ws)
        {
            if (killed) continue;
            int code = await w.WaitForExitAsync(TimeSpan.FromSeconds(15));
            if (code != 0 && !ExpectedExitCodes.Contains(code)) checker.Add("I5", "pid " + w.Pid, "exit code " + code + " after SIGTERM");
        }
        var jobs = new List<JobRecord>();
        var unknown = new List<string>();
        using (var p = Probe())
        {
            foreach (var id in _ids)
            {
                var v = (object?[])p.Call("HMGET", "{jobd}:job:" + id, "state", "attempt", "token", "last_error", "recoveries")!;
                jobs.Add(new JobRecord(id, (string?)v[0], (string?)v[1], (string?)v[2], (string?)v[3],
                    int.TryParse((string?)v[4], out var recoveries) ? recoveries : 0));
            }
            var known = new HashSet<string>(_ids, StringComparer.Ordinal);
            foreach (var k in (object?[])p.Call("KEYS", "{jobd}:job:*")!)
            {
                var id = ((string)k!).Substring("{jobd}:job:".Length);
                if (!known.Contains(id)) unknown.Add(id);
            }
        }
        var logs = new List<IReadOnlyList<string>>();
        foreach (var (w, _) in ws)
        {
            var all = new List<string>(w.Stderr.Snapshot());
            all.AddRange(w.Stdout.Snapshot());
            logs.Add(all);
        }
        checker.Check(_expected, jobs, unknown, Ledger.Read(LedgerDir), logs, _faults, RecoveryBound, Secrets);
        checker.Throw();
        return checker;
    }

    /// <summary>Handlers fail by the fault itself (not only by their args): attempts may exceed the planned ones.</summary>
    public bool AttemptsMayGrow { get; set; }

    /// <summary>Exit codes a scenario expects besides 0 (75 when it recycles workers).</summary>
    public HashSet<int> ExpectedExitCodes { get; } = new();

    /// <summary>A worker that is meant to exit by itself (recycling): I5 does not apply to it.</summary>
    public void ExpectExit(ChildProcess w)
    {
        lock (_gate)
            for (int i = 0; i < _workers.Count; i++)
                if (ReferenceEquals(_workers[i].Worker, w)) _workers[i] = (w, true);
    }

    public IEnumerable<string> AllLogLines()
    {
        List<(ChildProcess Worker, bool Killed)> ws;
        lock (_gate) ws = new List<(ChildProcess, bool)>(_workers);
        foreach (var (w, _) in ws)
        {
            foreach (var l in w.Stderr.Snapshot()) yield return l;
            foreach (var l in w.Stdout.Snapshot()) yield return l;
        }
    }

    public int CountLines(string contains)
    {
        int n = 0;
        foreach (var l in AllLogLines())
            if (l.Contains(contains, StringComparison.Ordinal)) n++;
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        List<(ChildProcess Worker, bool Killed)> ws;
        lock (_gate) ws = new List<(ChildProcess, bool)>(_workers);
        foreach (var (w, _) in ws)
        {
            try { w.Signal(ChildProcess.SIGCONT); }
            catch (InvalidOperationException) { }
            await w.DisposeAsync();
        }
        await Redis.DisposeAsync();
        try { Directory.Delete(LedgerDir, recursive: true); }
        catch (IOException) { }
    }
}
