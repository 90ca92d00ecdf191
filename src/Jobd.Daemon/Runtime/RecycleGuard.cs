using System;
using System.Threading;

namespace Jobd.Runtime;

/// <summary>
/// Decides when this process should make way for a fresh one: after JOBD_MAX_JOBS jobs, or once its resident
/// memory passes JOBD_MAX_RSS_MB (a handler that leaks is contained by a restart, as Celery's
/// --max-tasks-per-child does). It only decides; the loop finishes and settles its job, then jobd exits with
/// <see cref="Cli.ExitCodes.Recycle"/> so systemd or the container runtime starts a new process.
/// </summary>
public sealed class RecycleGuard
{
    private readonly long _maxJobs;
    private readonly long _maxRssBytes;
    private readonly Func<long> _rssBytes;
    private string? _reason;
    private readonly CancellationTokenSource _requested = new();

    /// <param name="maxJobs">0: no limit.</param>
    /// <param name="maxRssBytes">0: no limit.</param>
    public RecycleGuard(long maxJobs, long maxRssBytes, Func<long>? rssBytes = null)
    {
        _maxJobs = maxJobs;
        _maxRssBytes = maxRssBytes;
        _rssBytes = rssBytes ?? (() => Environment.WorkingSet);
    }

    public string? Reason => Volatile.Read(ref _reason);
    public bool Requested => Reason is not null;

    /// <summary>Cancelled when recycling is requested, so an idle loop leaves its blocking wait.</summary>
    public CancellationToken Token => _requested.Token;

    /// <summary>Called by the loop after each job.</summary>
    public bool AfterJob(long jobsDone)
    {
        if (_maxJobs > 0 && jobsDone >= _maxJobs) Request($"{jobsDone} jobs done (JOBD_MAX_JOBS={_maxJobs})");
        return Requested;
    }

    /// <summary>Called by the control ticker: reading RSS costs a /proc read, too much for every job.</summary>
    public void CheckMemory()
    {
        if (_maxRssBytes <= 0 || Requested) return;
        long rss = _rssBytes();
        if (rss > _maxRssBytes) Request($"resident memory {rss >> 20} MB above JOBD_MAX_RSS_MB={_maxRssBytes >> 20}");
    }

    private void Request(string reason)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is null) _requested.Cancel();
    }
}
