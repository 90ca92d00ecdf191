using System;
using System.Globalization;
using System.Threading;
using Jobd.Ops;
using Jobd.Queue;

namespace Jobd.Runtime;

/// <summary>
/// The STATUS= line `systemctl status` shows, kept cheap: it exists only when NOTIFY_SOCKET is set, and costs
/// the execution loop nothing per job. The loop reports only its steps between idle and busy; while busy, a
/// timer looks at the running job once per <see cref="Period"/>: a job seen on two looks in a row (it has run
/// for one to two periods) is named, "running send_reminder 4f2c9a1e", once; otherwise, at most once per
/// period, "busy, N jobs done". Idle: "idle, N jobs done". So STATUS is formatted at most once a second.
/// </summary>
public sealed class LoopStatus : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    public const int IdPrefixLength = 8;

    private readonly SystemdNotifier _notifier;
    private readonly LoopState _state;
    private readonly ITimer _timer;
    private readonly object _gate = new();
    private bool _busy;
    private RunningJob? _seen;
    private RunningJob? _named;
    private long _doneShown = -1;

    public LoopStatus(SystemdNotifier notifier, LoopState state, TimeProvider clock)
    {
        _notifier = notifier;
        _state = state;
        _timer = clock.CreateTimer(static s => ((LoopStatus)s!).Look(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The loop found nothing to do and is about to wait.</summary>
    public void Idle()
    {
        lock (_gate)
        {
            _busy = false;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _seen = _named = null;
            _doneShown = _state.JobsDone;
            _notifier.Status("idle, " + _doneShown.ToString(CultureInfo.InvariantCulture) + " jobs done");
        }
    }

    /// <summary>The loop took a job after being idle.</summary>
    public void Busy()
    {
        lock (_gate)
        {
            _busy = true;
            _timer.Change(Period, Period);
        }
    }

    private void Look()
    {
        lock (_gate)
        {
            if (!_busy) return;
            var job = _state.Job;
            if (job is not null && ReferenceEquals(job, _seen))
            {
                if (!ReferenceEquals(job, _named))
                {
                    _named = job;
                    _notifier.Status("running " + job.Type + " " + (job.Id.Length > IdPrefixLength ? job.Id[..IdPrefixLength] : job.Id));
                }
            }
            else if (_state.JobsDone != _doneShown)
            {
                _doneShown = _state.JobsDone;
                _notifier.Status("busy, " + _doneShown.ToString(CultureInfo.InvariantCulture) + " jobs done");
            }
            _seen = job;
        }
    }

    public void Dispose() => _timer.Dispose();
}
