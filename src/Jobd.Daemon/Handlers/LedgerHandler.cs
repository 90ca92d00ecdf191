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
}

/// <summary>
/// ledger {"ms": N, "succeed_on_attempt": N}: a test and demo handler that records every execution in a file of
/// its own process, JOBD_LEDGER_DIR/ledger.PID, one line when it starts and one when it ends:
/// `start|end ID ATTEMPT TOKEN PID UNIX_MS [ok|retry]`. The fault tests read these files as the record of what
/// really ran, independent of jobd's own state and logs. Without JOBD_LEDGER_DIR the job fails for good, so the
/// handler never writes anywhere an operator did not choose. Each line is flushed to the kernel before the
/// handler goes on, so a kill -9 loses at most the line being written.
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
        if (args.Ms < 0) return JobOutcome.Fail("ledger: ms must not be negative");
        Write("start", job, null);
        if (args.Ms > 0) await Task.Delay(args.Ms, cancellationToken).ConfigureAwait(false);
        bool retry = args.SucceedOnAttempt is { } n && job.Attempt < n;
        Write("end", job, retry ? "retry" : "ok");
        return retry ? JobOutcome.RetryLater("ledger: failing as asked before attempt " + args.SucceedOnAttempt, TimeSpan.FromMilliseconds(20))
                     : JobOutcome.Success();
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
