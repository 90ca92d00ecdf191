using System.Threading;

namespace Jobd.Outcomes;

/// <summary>What the result sink reports to the rest of the process (stats, metrics): read without locks.</summary>
public sealed class SinkStatus
{
    private long _written;
    private long _outbox = -1;
    private volatile bool _postgresUp;

    public bool PostgresUp => _postgresUp;

    /// <summary>Outcome rows inserted by this process.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The outbox length last seen by the control tick; -1 before the first.</summary>
    public long Outbox => Interlocked.Read(ref _outbox);

    internal void SetUp(bool up) => _postgresUp = up;
    internal void AddWritten(int rows) => Interlocked.Add(ref _written, rows);
    public void SeenOutbox(long length) => Interlocked.Exchange(ref _outbox, length);
}
