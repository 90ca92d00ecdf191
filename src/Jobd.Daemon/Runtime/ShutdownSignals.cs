using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Jobd.Runtime;

/// <summary>
/// SIGTERM and SIGINT, turned into two cancellation tokens: the first signal asks for a graceful stop (stop taking
/// jobs, finish or put back the running one within the grace period), a second one for an immediate put-back.
/// The default action (terminate) is cancelled, so jobd always decides how it exits.
/// </summary>
public sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _immediate = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _int;
    private int _count;

    public ShutdownSignals()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    public CancellationToken Graceful => _graceful.Token;
    public CancellationToken Immediate => _immediate.Token;

    /// <summary>The signal that started the stop, for the log line ("SIGTERM").</summary>
    public string? Received { get; private set; }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Received ??= context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
        if (Interlocked.Increment(ref _count) == 1) _graceful.Cancel();
        else _immediate.Cancel();
    }

    public void Dispose()
    {
        _term.Dispose();
        _int.Dispose();
        _graceful.Dispose();
        _immediate.Dispose();
    }
}
