// The suite's figures in table order, with PRODUCT.md's targets ("Hard numbers").
using System.Collections.Generic;

namespace Jobd.Bench;

internal sealed class Figures
{
    private const string StandIn = "stand-in worker, same hops (BLPOP, one script: pop, mark, lease)";

    public readonly Figure IdleRssDb = new("idle RSS, Redis and Postgres connected, after the idle wait", "MB", "≤ 12 MB", v => v <= 12);
    public readonly Figure IdleRssNoDb = new("idle RSS, Redis only (no DATABASE_URL), after the idle wait", "MB", "—", null);
    public readonly Figure PeakRss = new("peak RSS (VmHWM) draining the no-op jobs, outcomes persisted", "MB", "≤ 24 MB", v => v <= 24);
    public readonly Figure Throughput1 = new("no-op jobs/s, one worker (no DATABASE_URL)", "jobs/s", "—", null, "0") { ReferenceLabel = "redis-benchmark -c 1 -P 1 PING rt/s" };
    public readonly Figure ThroughputDb = new("no-op jobs/s, one worker, outcomes persisted to Postgres", "jobs/s", "—", null, "0") { ReferenceLabel = "without Postgres" };
    public readonly Figure ThroughputRatio = new("one worker ÷ redis-benchmark PING (same run)", "×", "≥ 0.8", v => v >= 0.8, "0.00");
    public readonly Figure IdleCommands = new("Redis commands/s sent by an idle worker (MONITOR, scripts' inner calls excluded)", "cmd/s", "≤ 0.2", v => v <= 0.2, "0.000");
    public readonly Figure LatencyP50 = new("enqueue-to-start latency p50, idle worker", "ms", "≤ 0.5 ms", v => v <= 0.5, "0.000") { ReferenceLabel = StandIn };
    public readonly Figure LatencyP99 = new("enqueue-to-start latency p99, idle worker", "ms", "≤ 2 ms", v => v <= 2, "0.000") { ReferenceLabel = StandIn };
    public readonly Figure StandInThroughput = new("jobs/s of a stand-in worker: one minimal script per job (pop, mark, lease), no settlement", "jobs/s", "—", null, "0") { ReferenceLabel = "jobd, one worker, no DATABASE_URL" };

    public readonly Figure DueTime = new("due jobs moved to their queue: time for all", "ms", "≤ 100 ms", v => v <= 100, "0.0");
    public readonly Figure DueRoundTrips = new("due jobs moved: jobd's Redis round trips for all", "round trips", "independent of the number", null, "0");
    public readonly Figure DueRoundTripsTenth = new("due jobs moved: round trips for a tenth as many", "round trips", "—", null, "0");
    public readonly Figure OutcomeRate = new("outcomes persisted to Postgres: a 100,000-entry outbox drained by one worker's sink", "rows/s", "≥ 20,000 rows/s", v => v >= 20_000, "0") { ReferenceLabel = "while jobs run (bounded by the job rate)" };
    public readonly Figure OutcomeLagP99 = new("outcome lag p99 (recorded_at − finished_at), steady state", "ms", "≤ 1 s", v => v <= 1000, "0");
    public readonly Figure OutcomeLagMax = new("outcome lag max, steady state", "ms", "≤ 1 s", v => v <= 1000, "0");
    public readonly Figure OutcomeTail = new("last job finished to last outcome row", "ms", "—", null, "0");
    public readonly Figure Startup = new("start-up to READY=1 (with Postgres)", "ms", "≤ 100 ms", v => v <= 100, "0.0");
    public readonly Figure BinarySize = new("binary size", "MB", "≤ 12 MB", v => v <= 12);
    public readonly Figure Workers2 = new("no-op jobs/s, 2 workers in total, outcomes persisted", "jobs/s", "—", null, "0") { ReferenceLabel = "1 worker, outcomes persisted" };
    public readonly Figure Workers4 = new("no-op jobs/s, 4 workers in total, outcomes persisted", "jobs/s", "—", null, "0") { ReferenceLabel = "1 worker, outcomes persisted" };

    public IReadOnlyList<Figure> All => [IdleRssDb, IdleRssNoDb, PeakRss, Throughput1, ThroughputRatio, StandInThroughput, ThroughputDb, IdleCommands, LatencyP50,
        LatencyP99, DueTime, DueRoundTrips, DueRoundTripsTenth, OutcomeRate, OutcomeLagP99, OutcomeLagMax, OutcomeTail, Startup,
        BinarySize, Workers2, Workers4];
}
