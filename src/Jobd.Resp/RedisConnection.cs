// One RESP2 connection: the socket (or TLS stream), a pooled receive buffer, and the deadline of the reply awaited.
// Duties: 1. send encoded frames in one write; 2. read replies with RespParser, growing the buffer only as bytes
// arrive and never beyond MaxReplyBytes; 3. break on any I/O error, timeout, cancellation or malformed frame, so a
// late reply can never be attributed to the next command (a broken connection is never reused; callers reconnect).
// Thread-safety: NOT thread-safe. One caller at a time; a second concurrent call throws InvalidOperationException.
// Only Break (and Dispose) may be called from any thread.
using System;
using System.Buffers;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

/// <summary>
/// One RESP2 connection. NOT thread-safe: one caller at a time (a concurrent call throws InvalidOperationException);
/// only <see cref="Break"/> and disposal may come from another thread. Any I/O error, deadline, cancellation or
/// malformed reply breaks it for good (<see cref="IsBroken"/>); make a new one, or use <see cref="RedisClient"/>.
/// Replies: integers, nil, OK/PONG/QUEUED allocate nothing; bulk strings are copied into a new byte[] the caller owns.
/// Waiting: over plain TCP a non-blocking command's reply is awaited on the calling thread (poll(2), bounded by
/// CommandTimeout; see ReadWaitingSynchronously for why), so cancel it from another thread; blocking commands and
/// TLS connections wait asynchronously.
/// </summary>
public sealed partial class RedisConnection : IAsyncDisposable
{
    private const int ReceiveBufferInitialBytes = 16 * 1024;
    // Idle connections give a large buffer back so one 8 MiB reply does not pin 8 MiB for the process's life.
    private const int ReceiveBufferKeptBytes = 64 * 1024;
    // Room for the header and CRLF around a bulk string of exactly MaxReplyBytes.
    private const int FrameOverheadBytes = 64;
    private const int ReplyPollSliceMilliseconds = 10;
    // A blocking command waited for on the calling thread: Break shuts the socket down, which ends the poll at
    // once, so the slice is only a safety net and an idle worker's thread wakes once a second, not 100 times.
    private const int BlockingPollSliceMilliseconds = 1000;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly bool _plainTcp;
    private bool _pollReplies;
    private int _pollSliceMicros = ReplyPollSliceMilliseconds * 1000;
    private readonly Timer _deadline;
    private byte[] _in;
    private int _start, _end;
    private long _deadlineAt = long.MaxValue;
    private TimeSpan _deadlineLength;
    private string? _broken;
    private long _timerDueAt = long.MaxValue;
    private readonly object _timerGate = new();
    private int _busy;

    private RedisConnection(RedisOptions options, Socket socket, Stream stream)
    {
        Options = options;
        _socket = socket;
        _stream = stream;
        _plainTcp = stream is NetworkStream;
        _in = ArrayPool<byte>.Shared.Rent(ReceiveBufferInitialBytes);
        _deadline = new Timer(static s => ((RedisConnection)s!).OnDeadline(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public RedisOptions Options { get; }

    /// <summary>True once the connection failed; it will never be used again.</summary>
    public bool IsBroken => Volatile.Read(ref _broken) is not null;

    /// <summary>Why the connection broke (one line, no secrets), or null.</summary>
    public string? BrokenReason => Volatile.Read(ref _broken);

    private string Endpoint => Options.Host + ":" + Options.Port;

    /// <summary>Closes the socket so any pending read or write fails; safe from any thread, idempotent.</summary>
    public void Break(string reason)
    {
        if (Interlocked.CompareExchange(ref _broken, reason.ReplaceLineEndings(" "), null) is not null) return;
        _deadline.Change(Timeout.Infinite, Timeout.Infinite);
        // Shut down first: a thread waiting in poll(2) on this socket wakes now (a close alone does not wake it).
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _socket.Dispose();
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("RedisConnection serves one caller at a time; it was called concurrently");
        if (Volatile.Read(ref _broken) is { } reason)
        {
            Volatile.Write(ref _busy, 0);
            throw new RedisConnectionException($"connection to {Endpoint} is broken ({reason}); reconnect");
        }
    }

    private void Exit() => Volatile.Write(ref _busy, 0);

    private void Arm(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            Disarm();
            return;
        }
        _deadlineLength = timeout;
        long at = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        Interlocked.Exchange(ref _deadlineAt, at); // a full fence: OnDeadline must see it or Arm must see its reset
        // Usually a field write only: a timer already due no later than this deadline re-schedules itself when it
        // fires, so a busy connection does not pay for a timer-queue update per command.
        if (at >= Volatile.Read(ref _timerDueAt)) return;
        lock (_timerGate)
        {
            if (at >= _timerDueAt) return;
            _timerDueAt = at;
            _deadline.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void Disarm() => Volatile.Write(ref _deadlineAt, long.MaxValue);

    private void OnDeadline()
    {
        lock (_timerGate)
        {
            Interlocked.Exchange(ref _timerDueAt, long.MaxValue);
            long at = Volatile.Read(ref _deadlineAt);
            long now = Environment.TickCount64;
            if (at == long.MaxValue) return; // disarmed: the next Arm schedules the timer again
            if (at > now)
            {
                _timerDueAt = at;
                _deadline.Change(TimeSpan.FromMilliseconds(at - now), Timeout.InfiniteTimeSpan);
                return;
            }
        }
        Break($"no reply from {Endpoint} within {_deadlineLength.TotalSeconds:0.###}s");
    }

    private CancellationTokenRegistration Watch(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((RedisConnection)s!).Break("cancelled while awaiting a reply"), this)
            : default;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(ReadOnlyMemory<byte> frame)
    {
        Options.RoundTrips?.Add();
        await _stream.WriteAsync(frame).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RedisReply> ReadAsync()
    {
        while (true)
        {
            if (_end > _start && RespParser.TryMeasure(_in.AsSpan(_start, _end - _start), Options.MaxReplyBytes, out int length))
            {
                if (length > ReplyLimit) throw ReplyTooLarge();
                var reply = RespParser.Parse(_in.AsSpan(_start, length));
                _start += length;
                if (_start == _end) ResetBuffer();
                return reply;
            }
            MakeRoom();
            int read = _pollReplies
                ? ReadWaitingSynchronously()
                : await _stream.ReadAsync(_in.AsMemory(_end)).ConfigureAwait(false);
            if (read == 0) throw new RedisConnectionException($"{Endpoint} closed the connection");
            _end += read;
        }
    }

    /// <summary>
    /// Plain TCP, non-blocking commands: waits for the reply in poll(2), in slices so a Break (deadline,
    /// cancellation) from another thread is noticed, then reads synchronously. Why not an asynchronous read: the
    /// first asynchronous wait registers the socket with the runtime's epoll thread, which from then on wakes for
    /// every reply and halves round trips per second (measured with tests/bench/Jobd.Bench). Cost: the calling
    /// thread is held while Redis answers (at most CommandTimeout). Blocking commands wait asynchronously unless
    /// <see cref="RedisOptions.BlockOnCallingThread"/>; TLS always does.
    /// </summary>
    private int ReadWaitingSynchronously()
    {
        while (!_socket.Poll(_pollSliceMicros, SelectMode.SelectRead))
        {
            // Break disposes the socket: the next Poll throws ObjectDisposedException, which Failure translates.
        }
        return _stream.Read(_in, _end, _in.Length - _end);
    }

    /// <summary>A whole reply, all elements together, is bounded like a single bulk string.</summary>
    private long ReplyLimit => Options.MaxReplyBytes + FrameOverheadBytes;

    private RedisProtocolException ReplyTooLarge() =>
        new($"reply from {Endpoint} larger than {Options.MaxReplyBytes} bytes (MaxReplyBytes); connection closed");

    private void ResetBuffer()
    {
        _start = _end = 0;
        if (_in.Length > ReceiveBufferKeptBytes)
        {
            ArrayPool<byte>.Shared.Return(_in);
            _in = ArrayPool<byte>.Shared.Rent(ReceiveBufferInitialBytes);
        }
    }

    /// <summary>Grows by doubling only when full, so memory follows the bytes received, not the lengths announced.</summary>
    private void MakeRoom()
    {
        int buffered = _end - _start;
        // Bounds a reply made of many elements that are each under the limit (the pool may round a buffer up).
        long limit = ReplyLimit;
        if (buffered >= limit) throw ReplyTooLarge();
        if (_end < _in.Length) return;
        if (_start > 0 && buffered < _in.Length / 2)
        {
            _in.AsSpan(_start, buffered).CopyTo(_in);
        }
        else
        {
            int size = (int)Math.Min(Math.Min((long)_in.Length * 2, limit), Array.MaxLength);
            var bigger = ArrayPool<byte>.Shared.Rent(size);
            _in.AsSpan(_start, buffered).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_in);
            _in = bigger;
        }
        _start = 0;
        _end = buffered;
    }

    /// <summary>Turns whatever ended a round trip into the exception the caller sees, breaking the connection.</summary>
    private Exception Failure(Exception e, CancellationToken cancellationToken)
    {
        if (e is InvalidOperationException && e is not ObjectDisposedException) return e; // misuse, thrown before I/O
        string reason = e switch
        {
            RedisProtocolException => e.Message,
            RedisConnectionException => e.Message,
            _ => $"connection to {Endpoint} lost: {e.Message.ReplaceLineEndings(" ")}",
        };
        Break(reason);
        if (cancellationToken.IsCancellationRequested) return new OperationCanceledException("cancelled; the connection was discarded", e, cancellationToken);
        if (e is RedisProtocolException) return e;
        // The reason recorded first wins: a deadline or a cancellation explains the I/O error that followed it.
        return new RedisConnectionException(BrokenReason ?? reason, e);
    }

    public async ValueTask DisposeAsync()
    {
        Break("disposed");
        await _deadline.DisposeAsync().ConfigureAwait(false);
        try { await _stream.DisposeAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
        // A read still in flight on another thread may touch the buffer: leave it to the GC then.
        if (Interlocked.Exchange(ref _busy, 1) == 0)
        {
            var buffer = _in;
            _in = [];
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
