using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Queue;

namespace Jobd.Handlers;

public sealed class LedgerArgs
{
    [JsonPropertyName("ms")] public int Ms { get; set; }

    /// <summary>Fail retryably before this attempt (to mix retries into a fault run).</summary>
    [JsonPropertyName("succeed_on_attempt")] public int? SucceedOnAttempt { get; set; }

    /// <summary>Block the thread this long without looking at the cancellation token (a stuck handler).</summary>
    [JsonPropertyName("hang_ms")] public int HangMs { get; set; }

    /// <summary>Allocate (and touch) this many MB, held until the run ends (an out-of-memory handler).</summary>
    [JsonPropertyName("alloc_mb")] public int AllocMb { get; set; }
}

/// <summary>
/// ledger {"ms": N, "succeed_on_attempt": N, "hang_ms": N, "alloc_mb": N}: a test and demo handler that records every execution in a file of
/// its own process, JOBD_LEDGER_DIR/ledger.PID, one line when it starts and one when it ends:
/// `start|end ID ATTEMPT TOKEN PID UNIX_MS [ok|retry]`. The fault tests read these files as the record of what
/// really ran, independent of jobd's own state and logs. Without JOBD_LEDGER_DIR the job fails for good, so the
/// handler never writes anywhere an operator did not choose. Each line is flushed to the kernel before the
/// handler goes on, so a kill -9 loses at most the line being written. Two arguments make it misbehave on
/// purpose, for the fault tests: hang_ms blocks its thread without ever looking at its cancellation token (a
/// handler stuck in a blocking call), alloc_mb allocates that much memory in 1 MB pieces and holds it until
/// the run ends (with DOTNET_GCHeapHardLimit below it: a handler that runs out of memory).
/// </summary>
public sealed class LedgerHandler : JobHandler<LedgerArgs>, IDisposable
{
    private readonly string? _dir;
    private readonly object _gate = new();
    private FileStream? _file;

    public LedgerHandler(string? dir) : base(BuiltInJson.Default.LedgerArgs) => _dir = dir;

    protected override async ValueTask<JobOutcome> RunAsync(LedgerArgs args, RunningJob job, CancellationToken cancellationToken)
    {
        if (_dir is null) return JobOutcome.Fail("ledger: JOBD_LEDGER_DIR is not set");
        if (args.Ms < 0 || args.HangMs < 0 || args.AllocMb < 0) return JobOutcome.Fail("ledger: ms, hang_ms and alloc_mb must not be negative");
        Write("start", job, null);
        var held = Allocate(args.AllocMb);
        if (args.HangMs > 0) Thread.Sleep(args.HangMs);
        if (args.Ms > 0) await Task.Delay(args.Ms, cancellationToken).ConfigureAwait(false);
        GC.KeepAlive(held);
        bool retry = args.SucceedOnAttempt is { } n && job.Attempt < n;
        Write("end", job, retry ? "retry" : "ok");
        return retry ? JobOutcome.RetryLater("ledger: failing as asked before attempt " + args.SucceedOnAttempt, TimeSpan.FromMilliseconds(20))
                     : JobOutcome.Success();
    }

    private static byte[][] Allocate(int mb)
    {
        var pieces = new byte[mb][];
        for (int i = 0; i < mb; i++)
        {
            pieces[i] = new byte[1 << 20];
            // Touched, so the memory is really committed, not only reserved.
            for (int at = 0; at < pieces[i].Length; at += 4096) pieces[i][at] = 1;
        }
        return pieces;
    }

    private void Write(string what, RunningJob job, string? outcome)
    {
        var line = new StringBuilder(96).Append(what).Append(' ').Append(job.Id).Append(' ')
            .Append(job.Attempt.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(job.Token).Append(' ')
            .Append(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        if (outcome is not null) line.Append(' ').Append(outcome);
        var bytes = Encoding.UTF8.GetBytes(line.Append('\n').ToString());
        lock (_gate)
        {
            _file ??= new FileStream(Path.Combine(_dir!, "ledger." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
                FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1);
            _file.Write(bytes, 0, bytes.Length);
            _file.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate) _file?.Dispose();
    }
}
