using System;
using System.Collections.Generic;
using System.Text;
using Jobd.Testing;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>What the checker needs of one job as Redis holds it at the end.</summary>
public readonly record struct JobRecord(string Id, string? State, string? Attempt, string? Token, string? LastError, int Recoveries = 0);

/// <summary>
/// The invariants of RELIABILITY.md checked after a scenario has drained, from three sources that must agree:
/// the ledger (what ran), Redis' job hashes (what jobd decided) and the workers' output (what jobd said).
/// Every violation is collected; <see cref="Throw"/> fails with the scenario, its seed and the offending ids.
/// </summary>
public sealed class LedgerChecker
{
    private readonly string _scenario;
    private readonly int _seed;
    private readonly List<string> _problems = new();

    public LedgerChecker(string scenario, int seed)
    {
        _scenario = scenario;
        _seed = seed;
    }

    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The scenario makes handlers fail (fd exhaustion): a done job may have spent more attempts.</summary>
    public bool AttemptsMayGrow { get; init; }

    /// <summary>How many interrupted runs the recovery bound (I3) was checked for.</summary>
    public int I3Checked { get; private set; }

    /// <summary>Per job: how many attempts it should take (1, or succeed_on_attempt).</summary>
    public void Check(IReadOnlyDictionary<string, int> expectedAttempts, IReadOnlyList<JobRecord> jobs,
        IReadOnlyList<string> unknownJobKeys, IReadOnlyList<LedgerRun> runs, IReadOnlyList<IReadOnlyList<string>> workerLogs,
        IReadOnlyList<FaultEvent> faults, TimeSpan recoveryBound, IReadOnlyList<string> secrets)
    {
        var byId = new Dictionary<string, List<LedgerRun>>(StringComparer.Ordinal);
        foreach (var r in runs)
        {
            if (!byId.TryGetValue(r.Id, out var list)) byId[r.Id] = list = new List<LedgerRun>();
            list.Add(r);
        }
        var logText = new StringBuilder();
        foreach (var log in workerLogs)
            foreach (var line in log) logText.Append(line).Append('\n');
        var logs = logText.ToString();

        // I1: exactly one terminal state per enqueued id; nothing jobd invented.
        foreach (var j in jobs)
        {
            if (j.State == "done") continue;
            if (j.State == "dead" && !string.IsNullOrEmpty(j.LastError)) continue;
            Add("I1", j.Id, $"state {j.State ?? "missing"} (last_error {j.LastError ?? "none"})");
        }
        foreach (var k in unknownJobKeys) Add("I1", k, "a job hash no test enqueued");
        foreach (var r in runs)
            if (!expectedAttempts.ContainsKey(r.Id)) Add("I1", r.Id, "ran but was never enqueued");

        // I2: reruns only after a logged recovery; a recovery spends no attempt; the accepted success really ran.
        foreach (var j in jobs)
        {
            byId.TryGetValue(j.Id, out var list);
            list ??= new List<LedgerRun>();
            var perAttempt = new Dictionary<int, int>();
            foreach (var r in list) perAttempt[r.Attempt] = perAttempt.GetValueOrDefault(r.Attempt) + 1;
            bool rerun = false;
            foreach (var kv in perAttempt) rerun |= kv.Value > 1;
            if (rerun && !LoggedRecovery(logs, j.Id) && !RecoveredByAKilledWorker(j, list, faults))
                Add("I2", j.Id, $"ran {list.Count} times without a logged recovery, lease loss or reclaim: " + Runs(list) + $"; final state {j.State} attempt {j.Attempt} token {j.Token}");
            if (j.State == "done")
            {
                int want = expectedAttempts.GetValueOrDefault(j.Id, 1);
                int got = int.TryParse(j.Attempt, out var a) ? a : -1;
                if (AttemptsMayGrow ? got < want : got != want)
                    Add("I2", j.Id, $"done at attempt {j.Attempt}, expected {want}: a recovery spent an attempt, or a retry was lost");
                LedgerRun? accepted = null;
                foreach (var r in list)
                    if (r.Token == j.Token) accepted = r;
                if (accepted is null) Add("I2", j.Id, $"accepted token {j.Token} has no run in the ledger");
                else if (accepted.Outcome != "ok") Add("I2", j.Id, $"accepted token {j.Token} did not end well in the ledger ({accepted.Outcome ?? "no end"})");
            }
        }

        // I3: a job held by a killed, stopped, self-exited or partitioned worker starts again within the bound, when
        // another worker was up.
        foreach (var f in faults)
        {
            if (f.Kind is not (FaultKind.Kill or FaultKind.Stop or FaultKind.Exit or FaultKind.Partition)) continue;
            if (Disturbed(faults, f, recoveryBound)) continue;
            foreach (var r in runs)
            {
                if (r.Pid != f.Pid || r.StartMs > f.AtMs || (r.EndMs is { } end && end <= f.AtMs)) continue;
                long? next = null;
                foreach (var other in byId[r.Id])
                    if (other.Pid != f.Pid && other.StartMs > r.StartMs && (next is null || other.StartMs < next)) next = other.StartMs;
                if (next is null) continue; // its end was simply not written (killed after the handler returned): I1 judges it
                I3Checked++;
                if (next.Value - f.AtMs > (long)recoveryBound.TotalMilliseconds)
                    Add("I3", r.Id, $"restarted {next.Value - f.AtMs} ms after {f.What}, bound {recoveryBound.TotalMilliseconds:0} ms");
            }
        }

        // I4: a "lease lost" warning is true: some worker recovered that job.
        foreach (var j in jobs)
            if (logs.Contains("lease lost: job " + j.Id + " ", StringComparison.Ordinal)
                && !logs.Contains("recovered job " + j.Id + " ", StringComparison.Ordinal))
                Add("I4", j.Id, "'lease lost' logged but no worker recovered the job");

        // I4: down/up lines alternate (one per state change), and no secret appears anywhere.
        for (int w = 0; w < workerLogs.Count; w++)
        {
            bool down = false;
            foreach (var line in workerLogs[w])
            {
                foreach (var s in secrets)
                    if (line.Contains(s, StringComparison.Ordinal)) Add("I4", "worker " + w, "a secret in: " + line.Replace(s, "<secret>", StringComparison.Ordinal));
                if (line.Contains("redis down:", StringComparison.Ordinal))
                {
                    if (down) Add("I4", "worker " + w, "a second 'redis down' without 'redis up' between: " + line);
                    down = true;
                }
                else if (line.Contains("redis up:", StringComparison.Ordinal)) down = false;
            }
        }
    }

    /// <summary>I5: a worker the test did not kill or stop must still run (it never exits on a dependency fault).</summary>
    public void CheckAlive(IEnumerable<(ChildProcess Worker, bool Killed)> workers)
    {
        foreach (var (w, killed) in workers)
            if (!killed && w.HasExited) Add("I5", "pid " + w.Pid, "exited by itself; last lines:\n    " + string.Join("\n    ", Tail(w.Stderr.Snapshot(), 8)));
    }

    public void Add(string invariant, string id, string what) => _problems.Add($"{invariant} {id}: {what}");

    public void Throw()
    {
        if (_problems.Count == 0) return;
        var sb = new StringBuilder().Append(_scenario).Append(" (seed ").Append(_seed).Append("): ")
            .Append(_problems.Count).Append(" violation(s)\n");
        for (int i = 0; i < _problems.Count && i < 40; i++) sb.Append("  ").Append(_problems[i]).Append('\n');
        throw new Xunit.Sdk.XunitException(sb.ToString());
    }

    /// <summary>
    /// The tick that recovers a job commits in Redis before its worker writes the log line: a kill -9 in between
    /// loses the line, not the recovery. Then Redis's own count must explain every rerun, and each run before the
    /// last must have been cut by a fault of its own worker: that pid was killed (or stopped, its lease then
    /// expiring) after the run started. The ledger names the pid of every run it holds, so a rerun is tied to the
    /// worker the test actually killed, not to any kill of the scenario.
    /// </summary>
    private static bool RecoveredByAKilledWorker(JobRecord j, List<LedgerRun> runs, IReadOnlyList<FaultEvent> faults)
    {
        var ordered = new List<LedgerRun>(runs);
        ordered.Sort((a, b) => a.StartMs.CompareTo(b.StartMs));
        int reruns = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            // A run followed by another of the same attempt was cut short (a retry is a new attempt, not a rerun).
            bool rerun = false;
            for (int k = i + 1; k < ordered.Count && !rerun; k++) rerun = ordered[k].Attempt == ordered[i].Attempt;
            if (!rerun) continue;
            reruns++;
            if (!CutByAFault(ordered[i], faults)) return false;
        }
        return j.Recoveries >= reruns;
    }

    /// <summary>
    /// Both clocks are this machine's wall clock: the fault is recorded just before the signal is sent, so a run may
    /// start in between (a few ms); the slack does not let an unrelated kill of another worker count.
    /// </summary>
    private static bool CutByAFault(LedgerRun run, IReadOnlyList<FaultEvent> faults)
    {
        foreach (var f in faults)
            if (f.Kind is FaultKind.Kill or FaultKind.Stop or FaultKind.Exit or FaultKind.Partition && f.Pid == run.Pid && f.AtMs + 250 >= run.StartMs)
                return true;
        return false;
    }

    /// <summary>
    /// I4 for a configuration error: exit code 78, exactly one line reporting it (at error level for `jobd run`, or the
    /// only stderr line of a one-shot verb), naming <paramref name="names"/>, and no secret in any output.
    /// </summary>
    public void CheckConfigError(string what, int exitCode, IReadOnlyList<string> stderr, IReadOnlyList<string> stdout, string names,
        IReadOnlyList<string> secrets)
    {
        if (exitCode != 78) Add("I4", what, $"exit code {exitCode}, expected 78 (EX_CONFIG)");
        var errors = new List<string>();
        foreach (var line in stderr)
            if (line.Contains(" error ", StringComparison.Ordinal) || line.StartsWith("jobd: ", StringComparison.Ordinal)
                || line.StartsWith("{\"", StringComparison.Ordinal) && line.Contains("\"level\":\"error\"", StringComparison.Ordinal)
                || line.StartsWith("<3>", StringComparison.Ordinal))
                errors.Add(line);
        if (errors.Count != 1) Add("I4", what, $"{errors.Count} error lines, expected one:\n    " + string.Join("\n    ", errors));
        else if (!errors[0].Contains(names, StringComparison.Ordinal)) Add("I4", what, $"the error line does not name {names}: {errors[0]}");
        foreach (var output in new[] { stderr, stdout })
            foreach (var line in output)
                foreach (var s in secrets)
                    if (line.Contains(s, StringComparison.Ordinal)) Add("I4", what, "a secret in: " + line.Replace(s, "<secret>", StringComparison.Ordinal));
    }

    private static bool LoggedRecovery(string logs, string id) =>
        logs.Contains("recovered job " + id + " ", StringComparison.Ordinal)
        || logs.Contains("lease lost: job " + id + " ", StringComparison.Ordinal)
        || logs.Contains("reclaimed job " + id + ":", StringComparison.Ordinal)
        || logs.Contains("stopping without recording job " + id + "'s", StringComparison.Ordinal);

    /// <summary>
    /// A Redis or network-wide fault within the window makes the bound meaningless (nobody can recover while Redis
    /// is gone). Faults of single workers (a partition of one included) do not: the scenarios keep at least one
    /// other worker running.
    /// </summary>
    private static bool Disturbed(IReadOnlyList<FaultEvent> faults, FaultEvent f, TimeSpan bound)
    {
        foreach (var o in faults)
        {
            if (o.Kind is FaultKind.Kill or FaultKind.Stop or FaultKind.Cont or FaultKind.Exit or FaultKind.Partition or FaultKind.Heal) continue;
            if (o.AtMs >= f.AtMs - (long)bound.TotalMilliseconds && o.AtMs <= f.AtMs + (long)bound.TotalMilliseconds) return true;
        }
        return false;
    }

    private static string Runs(List<LedgerRun> runs)
    {
        var sb = new StringBuilder();
        foreach (var r in runs)
            sb.Append("[pid ").Append(r.Pid).Append(" attempt ").Append(r.Attempt).Append(" token ").Append(r.Token)
              .Append(" start ").Append(r.StartMs).Append(" end ").Append(r.EndMs?.ToString() ?? "-").Append(' ').Append(r.Outcome ?? "cut").Append("] ");
        return sb.ToString();
    }

    private static IEnumerable<string> Tail(IReadOnlyList<string> lines, int n)
    {
        for (int i = Math.Max(0, lines.Count - n); i < lines.Count; i++) yield return lines[i];
    }
}
