namespace Jobd.Queue;

/// <summary>
/// One outcome read from the outbox: what the take or tick script recorded when it settled the job
/// (PROTOCOL.md, "Outbox"). Times are Redis milliseconds; 0 when unknown.
/// </summary>
public sealed class OutcomeEntry
{
    /// <summary>The stream entry id: acknowledged once the row is committed.</summary>
    public string EntryId { get; set; } = "";
    public string JobId { get; set; } = "";
    public int Seq { get; set; }
    public int Attempt { get; set; }
    public int MaxAttempts { get; set; }
    public string Type { get; set; } = "";
    public string Queue { get; set; } = "";

    /// <summary>succeeded, failed (will retry) or dead.</summary>
    public string State { get; set; } = "";
    public int Recoveries { get; set; }
    public string Args { get; set; } = "";

    /// <summary>The result (succeeded) or the error (failed, dead).</summary>
    public string Text { get; set; } = "";
    public long EnqueuedAtMs { get; set; }
    public long StartedAtMs { get; set; }
    public long FinishedAtMs { get; set; }
    public string Worker { get; set; } = "";
}
