using System;
using System.Collections.Generic;
using System.Threading;
using Jobd.Queue;

namespace Jobd.Ops.Metrics;

/// <summary>
/// Job counters for /metrics: outcomes and a duration histogram per job type. Recording is allocation-free: a
/// type's counters are created once, the first time the type is seen, then only incremented. Job types come
/// from producers, so only types this worker has a handler (or route) for get a label of their own; every other
/// type is counted as "unknown" (they all end dead, no_route). A million random types thus make one series, and
/// the lookup cache of type names is capped at <see cref="MaxTypes"/> entries (past it, a lock per such job).
/// One writer (the execution loop) and any number of readers (scrapes): the dictionary grows under a lock
/// that readers take too, and the writer's own lookups need none because only it ever adds.
/// </summary>
public sealed class JobMetrics
{
    public const int MaxTypes = 1000;
    public const string UnknownType = "unknown";

    /// <summary>Upper bounds of the duration buckets, seconds; +Inf is implicit. Fixed so that series stay comparable.</summary>
    public static readonly double[] Buckets = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800 };

    /// <summary>Outcome labels, indexed by <see cref="SettleKind"/> (None is never recorded).</summary>
    public static readonly string[] Outcomes = { "none", "done", "retry", "dead", "requeue" };

    private readonly Dictionary<string, TypeCounters> _types = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, TypeCounters>> _series = new();
    private readonly object _grow = new();
    private readonly Func<string, bool> _hasHandler;
    private TypeCounters? _unknown;

    /// <param name="hasHandler">Whether this worker handles a type (a handler or a route); null: every type does.</param>
    public JobMetrics(Func<string, bool>? hasHandler = null) => _hasHandler = hasHandler ?? (static _ => true);

    public void Record(string type, SettleKind outcome, double seconds)
    {
        if (!_types.TryGetValue(type, out var c)) c = Add(type);
        c.Record(outcome, seconds);
    }

    private TypeCounters Add(string type)
    {
        lock (_grow)
        {
            TypeCounters c;
            if (_hasHandler(type))
            {
                c = new TypeCounters();
                _series.Add(new(type, c));
            }
            else if (_unknown is null)
            {
                c = _unknown = new TypeCounters();
                _series.Add(new(UnknownType, c));
            }
            else c = _unknown;
            if (_types.Count < MaxTypes) _types.Add(type, c);
            return c;
        }
    }

    /// <summary>A consistent-enough copy for one scrape: counters keep moving while it is read.</summary>
    public List<KeyValuePair<string, TypeCounters>> Snapshot()
    {
        var list = new List<KeyValuePair<string, TypeCounters>>();
        lock (_grow) list.AddRange(_series);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return list;
    }
}

/// <summary>One type's counters: outcomes, and the histogram's buckets (cumulative when read), count and sum.</summary>
public sealed class TypeCounters
{
    private readonly long[] _outcomes = new long[JobMetrics.Outcomes.Length];
    private readonly long[] _buckets = new long[JobMetrics.Buckets.Length + 1];
    private long _count;
    private long _sumMicros;

    internal void Record(SettleKind outcome, double seconds)
    {
        int o = (int)outcome;
        if ((uint)o < (uint)_outcomes.Length) Interlocked.Increment(ref _outcomes[o]);
        var bounds = JobMetrics.Buckets;
        int b = 0;
        while (b < bounds.Length && seconds > bounds[b]) b++;
        Interlocked.Increment(ref _buckets[b]);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1e6));
        Interlocked.Increment(ref _count);
    }

    public long Outcome(SettleKind kind) => Interlocked.Read(ref _outcomes[(int)kind]);

    /// <summary>Jobs that took at most bucket <paramref name="i"/>'s bound (i == Buckets.Length: all of them).</summary>
    public long Cumulative(int i)
    {
        long n = 0;
        for (int k = 0; k <= i; k++) n += Interlocked.Read(ref _buckets[k]);
        return n;
    }

    public long Count => Interlocked.Read(ref _count);
    public double SumSeconds => Interlocked.Read(ref _sumMicros) / 1e6;
}
