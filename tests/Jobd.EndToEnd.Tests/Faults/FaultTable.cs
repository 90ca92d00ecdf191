using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Jobd.Testing;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// The fault matrix's results, written by the tests that ran: each passing scenario records its row, and
/// artifacts/faults.md is rewritten with every row recorded so far plus the rows covered elsewhere or not runnable here.
/// </summary>
public static class FaultTable
{
    private static readonly object Gate = new();
    private static readonly SortedDictionary<string, string> Rows = new(StringComparer.Ordinal);

    /// <summary>Rows checked by other test classes, and rows this machine cannot inject (RELIABILITY.md, last section).</summary>
    private static readonly (string Row, string Text)[] Static =
    {
        ("P1", "kill -9 mid-job | recovered by the next worker, attempt unspent, recoveries 1 | covered by RecoveryTests.A_job_whose_worker_is_killed_runs_again_with_its_attempt_unspent; the exec child: P1b (gone with jobd as PID 1; orphaned otherwise, docs/handlers.md)"),
        ("P3", "poison job that kills its worker | dead after 3 recoveries, worker_lost, others flow | covered by RecoveryTests.A_job_that_kills_its_worker_every_time_ends_dead_and_others_keep_flowing"),
        ("P10", "recycling (JOBD_MAX_JOBS, JOBD_MAX_RSS_MB) | exit 75 after settling, next process takes the rest | covered by RecyclingTests"),
        ("P4", "SIGTERM idle | exit 0 within a second | covered by RunVerbTests.Run_reports_ready_and_exits_0_within_a_second_of_the_signal"),
        ("P5", "SIGTERM mid-job within grace | job completes, exit 0 | covered by RecoveryTests.Sigterm_lets_a_short_job_finish_then_exits_0"),
        ("P6", "SIGTERM mid-job past grace | job back unspent, exit 0 | covered by RecoveryTests.Sigterm_past_the_grace_period_puts_the_job_back_unspent"),
        ("P7", "second signal | immediate put-back, exit 0 | covered by RecoveryTests.A_second_signal_puts_the_job_back_at_once"),
        ("G2", "Postgres down mid-run | 5000 rows exactly once after restart | covered by Outcomes/PostgresOutageTests.Postgres_stopped_in_the_middle_of_5000_jobs_gets_exactly_5000_rows"),
        ("G9", "PgBouncer transaction mode | outcomes written | covered by Outcomes/PostgresOutageTests.Behind_pgbouncer_in_transaction_mode_outcomes_are_written"),
        ("O5", "watchdog | READY/WATCHDOG/STOPPING from the loop | covered by SystemdNotifyTests"),
        ("O6", "Redis unavailable at start | waits, then READY | covered by RunVerbTests.Run_waits_for_redis_that_is_not_up_yet_then_becomes_ready"),
        ("O7", "config errors | exit 78, one line | covered by ConfigVerbTests.A_bad_variable_exits_78_with_one_line_naming_it"),
        ("R15", "hostile or huge replies | a 600 MB bulk header or a huge array header refused without allocating; malformed frames close the connection; silence ends at the deadline | covered by Jobd.Resp.Tests HostileReplyTests (a scripted hostile server)"),
        ("G8", "sql handler SQLSTATE classes | 40001, 40P01 (a real deadlock), 57P01 (a real pg_terminate_backend) and a statement timeout retry; 23505, 42883, 22P05 and raised exceptions fail for good with their SQLSTATE | covered by Jobd.Tests SqlRouteHandlerTests against a real Postgres"),
        ("R7", "Sentinel failover | worker follows the new primary and processes jobs enqueued after it | covered by SentinelTests.A_worker_follows_a_primary_failover_and_processes_jobs_enqueued_after_it"),
        ("R12", "Redis Cluster | every script runs through a node that does not serve the slot; two prefixes on different nodes | covered by ClusterTests.Every_script_runs_on_a_cluster_through_a_node_that_does_not_serve_the_slot, ClusterTests.Two_prefixes_served_by_different_nodes_both_work"),
        ("systemd", "real Type=notify, WatchdogSec kill, Restart= | - | not run here: systemd is not PID 1 on this machine"),
    };

    /// <param name="row">The matrix id (P1, R3…).</param>
    public static void Record(string row, string fault, string jobdDid, string outcome)
    {
        lock (Gate)
        {
            Rows[row] = $"{Cell(fault)} | {Cell(jobdDid)} | {Cell(outcome)}";
            Write();
        }
    }

    /// <summary>Rows of RELIABILITY.md's "Bad input" (B-…) and "Security" (S-…) tables get a section of their own.</summary>
    private static bool IsBadInputOrSecurity(string row) => row.StartsWith("B-", StringComparison.Ordinal) || row.StartsWith("S-", StringComparison.Ordinal);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static void Write()
    {
        var sb = new StringBuilder();
        sb.Append("# Fault matrix results\n\nWritten by tests/Jobd.EndToEnd.Tests/Faults (rows of RELIABILITY.md). ")
          .Append("Rows whose last column names I1–I5 passed the ledger checker (I1 no loss, I2 reruns only after a logged recovery, one accepted ")
          .Append("success, I3 recovery bound, I4 one line per state change and no secret, I5 no exit on a dependency fault).\n\n")
          .Append("| # | fault | what jobd did | invariants |\n|---|---|---|---|\n");
        foreach (var kv in Rows)
            if (!IsBadInputOrSecurity(kv.Key)) sb.Append("| ").Append(kv.Key).Append(" | ").Append(kv.Value).Append(" |\n");
        sb.Append("\n## Bad input and security\n\nRELIABILITY.md \"Bad input\" (B-) and \"Security\" (S-): hostile jobs, names, ")
          .Append("configuration and credentials against the published binary; the checker's I4 also demands exit 78 and one line ")
          .Append("for a configuration error.\n\n| # | input or attack | what jobd did | outcome |\n|---|---|---|---|\n");
        foreach (var kv in Rows)
            if (IsBadInputOrSecurity(kv.Key)) sb.Append("| ").Append(kv.Key).Append(" | ").Append(kv.Value).Append(" |\n");
        sb.Append("\n## Covered elsewhere or not runnable here\n\n| # | fault | what jobd did | where |\n|---|---|---|---|\n");
        foreach (var (row, text) in Static) sb.Append("| ").Append(row).Append(" | ").Append(text).Append(" |\n");
        var path = RepoPaths.File("artifacts", "faults.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sb.ToString());
    }
}
