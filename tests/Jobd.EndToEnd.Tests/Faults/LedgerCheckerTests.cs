using System;
using System.Collections.Generic;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>The checker itself, on made-up ledgers: it must catch what it claims to, and excuse only what it should.</summary>
public sealed class LedgerCheckerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    private static LedgerRun Run(int pid, int attempt, string token, long start, long? end, string? outcome = "ok") =>
        new() { Id = "j1", Attempt = attempt, Token = token, Pid = pid, StartMs = start, EndMs = end, Outcome = outcome };

    private static LedgerChecker Check(IReadOnlyList<LedgerRun> runs, IReadOnlyList<FaultEvent> faults, int recoveries, string log = "",
        int expectedAttempts = 1, int finalAttempt = 1)
    {
        var c = new LedgerChecker("unit", 7);
        var token = runs[^1].Token;
        c.Check(new Dictionary<string, int> { ["j1"] = expectedAttempts },
            new[] { new JobRecord("j1", "done", finalAttempt.ToString(), token, null, recoveries) }, Array.Empty<string>(), runs,
            new IReadOnlyList<string>[] { new[] { log } }, faults, Bound, new[] { "s3cret" });
        return c;
    }

    [Fact]
    public void A_rerun_without_a_logged_recovery_is_excused_only_by_a_fault_of_the_worker_that_ran_it()
    {
        var runs = new[] { Run(100, 1, "a", 1_000, null, null), Run(200, 1, "b", 3_000, 3_010) };
        // The worker that ran it first was killed while it ran: Redis counted the recovery, the log line was lost.
        Assert.Empty(Check(runs, new[] { new FaultEvent(FaultKind.Kill, 1_500, 100, "kill -9 of pid 100") }, recoveries: 1).Problems);
        // A kill of another worker explains nothing (was: any kill in the scenario excused every rerun).
        var other = Check(runs, new[] { new FaultEvent(FaultKind.Kill, 1_500, 300, "kill -9 of pid 300") }, recoveries: 1);
        Assert.Contains(other.Problems, p => p.StartsWith("I2 j1: ran 2 times without a logged recovery", StringComparison.Ordinal));
        // Nor a kill of that worker before the run started.
        Assert.NotEmpty(Check(runs, new[] { new FaultEvent(FaultKind.Kill, 500, 100, "kill -9 of pid 100") }, recoveries: 1).Problems);
        // Nor one Redis did not count as a recovery.
        Assert.NotEmpty(Check(runs, new[] { new FaultEvent(FaultKind.Kill, 1_500, 100, "kill -9 of pid 100") }, recoveries: 0).Problems);
        // A logged recovery excuses it whatever the faults.
        Assert.Empty(Check(runs, Array.Empty<FaultEvent>(), recoveries: 1, log: "recovered job j1 from worker w1, whose lease expired").Problems);
    }

    [Fact]
    public void A_retry_is_a_new_attempt_not_a_rerun()
    {
        var runs = new[] { Run(100, 1, "a", 1_000, 1_010, "retry"), Run(200, 2, "b", 3_000, 3_010) };
        Assert.Empty(Check(runs, Array.Empty<FaultEvent>(), recoveries: 0, expectedAttempts: 2, finalAttempt: 2).Problems);
        // A retry and then a rerun of attempt 2 by a killed worker: only the cut run needs the fault.
        var three = new[] { Run(100, 1, "a", 1_000, 1_010, "retry"), Run(100, 2, "b", 2_000, null, null), Run(200, 2, "c", 4_000, 4_010) };
        Assert.Empty(Check(three, new[] { new FaultEvent(FaultKind.Kill, 2_100, 100, "kill -9 of pid 100") }, recoveries: 1,
            expectedAttempts: 2, finalAttempt: 2).Problems);
    }

    [Fact]
    public void A_secret_in_a_log_line_is_reported_without_repeating_it()
    {
        var c = Check(new[] { Run(100, 1, "a", 1_000, 1_010) }, Array.Empty<FaultEvent>(), 0, log: "connecting with s3cret");
        var problem = Assert.Single(c.Problems);
        Assert.Contains("a secret in: connecting with <secret>", problem);
        Assert.DoesNotContain("s3cret", problem);
    }

    [Fact]
    public void A_configuration_error_needs_exit_78_one_line_naming_the_cause_and_no_secret()
    {
        var secrets = new[] { "s3cret" };
        var good = new LedgerChecker("unit", 0);
        good.CheckConfigError("ok", 78, new[] { "jobd: configuration error: JOBD_QUEUES: \"a\" is listed twice" }, Array.Empty<string>(), "JOBD_QUEUES", secrets);
        good.CheckConfigError("run", 78, new[] { "2026-01-01T00:00:00.000Z info  jobd starting", "2026-01-01T00:00:00.001Z error redis refused jobd: WRONGPASS …" },
            Array.Empty<string>(), "WRONGPASS", secrets);
        Assert.Empty(good.Problems);

        var bad = new LedgerChecker("unit", 0);
        bad.CheckConfigError("exit 1", 1, new[] { "jobd: configuration error: JOBD_QUEUES: bad" }, Array.Empty<string>(), "JOBD_QUEUES", secrets);
        bad.CheckConfigError("two lines", 78, new[] { "jobd: configuration error: JOBD_QUEUES: bad", "jobd: configuration error: again" },
            Array.Empty<string>(), "JOBD_QUEUES", secrets);
        bad.CheckConfigError("unnamed", 78, new[] { "jobd: configuration error: something" }, Array.Empty<string>(), "JOBD_QUEUES", secrets);
        bad.CheckConfigError("echoed", 78, new[] { "jobd: configuration error: REDIS_URL: redis://u:s3cret@h" }, Array.Empty<string>(), "REDIS_URL", secrets);
        Assert.Equal(4, bad.Problems.Count);
        Assert.All(bad.Problems, p => Assert.StartsWith("I4 ", p));
        Assert.DoesNotContain(bad.Problems, p => p.Contains("s3cret", StringComparison.Ordinal));
    }
}
