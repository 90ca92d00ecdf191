using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// Values announced by the code under observation (a process's output lines, a listener's datagrams), which a test
/// awaits instead of sleeping. Every value ever announced is kept, so a wait that starts late still sees it.
/// </summary>
public sealed class TestSignal<T>
{
    private readonly object _gate = new();
    private readonly List<T> _seen = new();
    private readonly List<(Func<T, bool> Match, TaskCompletionSource<T> Done)> _waiters = new();

    public void Announce(T value)
    {
        List<TaskCompletionSource<T>>? fire = null;
        T hit = value;
        lock (_gate)
        {
            _seen.Add(value);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(value))
                {
                    (fire ??= new()).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }
        if (fire is not null)
            foreach (var done in fire) done.TrySetResult(hit);
    }

    public IReadOnlyList<T> Snapshot()
    {
        lock (_gate) return _seen.ToArray();
    }

    /// <summary>Completes with the first value (past or future) that matches; fails after <paramref name="timeout"/>.</summary>
    public async Task<T> WaitAsync(Func<T, bool> match, TimeSpan timeout, string what)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var v in _seen)
                if (match(v)) return v;
            _waiters.Add((match, done));
        }
        using var cts = new CancellationTokenSource(timeout);
        using (cts.Token.Register(() => done.TrySetException(new TimeoutException(
                   $"waited {timeout.TotalSeconds:0.#}s for {what}; seen so far:\n  " + string.Join("\n  ", Snapshot())))))
        {
            return await done.Task.ConfigureAwait(false);
        }
    }
}
