using System;
using System.Collections.Generic;
using Jobd.Ops;
using Jobd.Queue;

namespace Jobd.Runtime;

/// <summary>
/// Queue keys that are not lists: someone else wrote another type there, and Redis answers WRONGTYPE. The take
/// script skips such a queue and serves the others; scripts that push a job onto it park the job in the scheduled
/// set for a minute instead (PROTOCOL.md). This says so once per key when it turns bad, and once when a take finds it
/// a list again. Only takes look at the worker's own queues in order, so a key of a queue this worker does not serve
/// (seen by its tick) is reported once and not followed. Shared by the execution loop and the control tick.
/// </summary>
public sealed class QueueKeyHealth
{
    private readonly Log _log;
    private readonly string[] _served;
    private readonly Dictionary<string, string> _bad = new(StringComparer.Ordinal);
    private volatile bool _anyBad;

    /// <param name="queues">The worker's queues in priority order, the order the take script looks at them.</param>
    public QueueKeyHealth(Log log, QueueKeys keys, IReadOnlyList<string> queues)
    {
        _log = log;
        _served = new string[queues.Count];
        for (int i = 0; i < queues.Count; i++) _served[i] = keys.Text(keys.Queue(queues[i]));
    }

    /// <summary>True while some key is known bad: then every take reports which of its keys it looked at.</summary>
    public bool AnyBad => _anyBad;

    /// <param name="bad">{key, Redis error, ...} from the take.</param>
    /// <param name="visited">How many of the served queues the take looked at: those not in <paramref name="bad"/> are lists.</param>
    public void Taken(string[] bad, int visited)
    {
        lock (_bad)
        {
            Note(bad);
            if (_bad.Count > 0)
                for (int i = 0; i < visited && i < _served.Length; i++)
                    if (_bad.ContainsKey(_served[i]) && !Contains(bad, _served[i]))
                    {
                        _bad.Remove(_served[i]);
                        _log.Info($"queue key {_served[i]} is a list again: serving that queue");
                    }
            _anyBad = _bad.Count > 0;
        }
    }

    /// <param name="bad">{key, Redis error, ...} from the tick (jobs it could not push were parked).</param>
    public void Ticked(string[] bad)
    {
        lock (_bad)
        {
            Note(bad);
            _anyBad = _bad.Count > 0;
        }
    }

    private void Note(string[] bad)
    {
        for (int i = 0; i + 1 < bad.Length; i += 2)
            if (_bad.TryAdd(bad[i], bad[i + 1]))
                _log.Error($"queue key {bad[i]} is not a list ({bad[i + 1]}): something else wrote to it; that queue is skipped and " +
                           "its jobs wait in the scheduled set (tried again every minute) until the key is renamed or deleted; the other queues are served");
    }

    private static bool Contains(string[] pairs, string key)
    {
        for (int i = 0; i + 1 < pairs.Length; i += 2)
            if (string.Equals(pairs[i], key, StringComparison.Ordinal)) return true;
        return false;
    }
}
