using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Handlers.Exec;

/// <summary>
/// A program's stdout, kept up to the result limit; past it, read and discarded (so the program never blocks on a
/// full pipe) until the flood cap, where reading stops and <see cref="Flooded"/> completes: a program that writes
/// without end (`yes`) is ended then, not drained until its timeout. Readable before the pipe closes: a
/// background process may hold it open after the program exited, and the job's result is what the program wrote,
/// not what that process writes later.
/// </summary>
internal sealed class OutputCapture
{
    private const int ScratchBytes = 16384;
    private readonly byte[] _buffer;
    private readonly int _limit;
    private readonly long _floodCap;
    private readonly TaskCompletionSource _flooded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _length;
    private long _total;
    private bool _truncated;
    private int _taken;

    public OutputCapture(Stream stream, int limit, long floodCap)
    {
        _limit = limit;
        _floodCap = floodCap;
        _buffer = ArrayPool<byte>.Shared.Rent(limit);
        Completion = ReadAsync(stream);
    }

    /// <summary>Ends when the pipe closes, or when reading stopped at the flood cap.</summary>
    public Task Completion { get; }

    /// <summary>Completes once more than the flood cap arrived on stdout; never otherwise.</summary>
    public Task Flooded => _flooded.Task;

    /// <summary>
    /// The result so far, once. The pooled buffer goes back when the read has ended; while it still runs, the
    /// buffer stays with the reading task and the garbage collector.
    /// </summary>
    public string? TakeResult()
    {
        if (Interlocked.Exchange(ref _taken, 1) == 1) return null;
        bool ended = Completion.IsCompleted;
        var result = ResultText.FromBytes(_buffer.AsSpan(0, Volatile.Read(ref _length)), ended && _truncated);
        if (ended) ArrayPool<byte>.Shared.Return(_buffer);
        return result;
    }

    private async Task ReadAsync(Stream stream)
    {
        byte[]? scratch = null;
        try
        {
            while (true)
            {
                if (_length < _limit)
                {
                    int n = await stream.ReadAsync(_buffer.AsMemory(_length, _limit - _length)).ConfigureAwait(false);
                    if (n == 0) return;
                    _total += n;
                    Volatile.Write(ref _length, _length + n);
                    continue;
                }
                scratch ??= ArrayPool<byte>.Shared.Rent(ScratchBytes);
                int m = await stream.ReadAsync(scratch.AsMemory()).ConfigureAwait(false);
                if (m == 0) return;
                _truncated = true;
                _total += m;
                if (_total > _floodCap)
                {
                    _flooded.TrySetResult();
                    return;
                }
            }
        }
        finally
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
