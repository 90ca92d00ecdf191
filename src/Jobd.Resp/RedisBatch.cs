// The request side of one round trip: one or more commands encoded into a pooled buffer, sent with one write.
// Duties: copy prepared frames, encode variable arguments in place (keys as pre-encoded bytes, never re-formatted),
// remember where each command starts and which script it calls so NOSCRIPT can be retried with the same bytes.
// Reusable (Clear) and not thread-safe: one owner at a time.
using System;

namespace Jobd.Resp;

/// <summary>
/// Commands encoded for one write: build once and reuse (a batch that is not cleared re-sends the same bytes), or
/// Clear and refill. Arguments are copied in as given: pass keys as pre-encoded byte[]. NOT thread-safe; do not
/// change a batch while a connection is sending it.
/// </summary>
public sealed class RedisBatch : IDisposable
{
    private readonly RespBuffer _buffer = new(1024);
    private Entry[] _entries = new Entry[4];
    private int _count;
    private int _pendingArguments;

    internal struct Entry
    {
        public int Start;
        public int Length;
        public RedisScript? Script;
    }

    /// <summary>Number of complete commands.</summary>
    public int Count => _count;

    internal ReadOnlyMemory<byte> Written => _buffer.Written;
    internal ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;
    internal ref readonly Entry EntryAt(int index) => ref _entries[index];

    public RedisBatch Clear()
    {
        _buffer.Clear();
        _count = 0;
        _pendingArguments = 0;
        return this;
    }

    /// <summary>Appends a command encoded once.</summary>
    public RedisBatch Add(PreparedCommand command)
    {
        int start = StartCommand();
        _buffer.WriteRaw(command.Frame.Span);
        Finish(start, null);
        return this;
    }

    /// <summary>Appends an already encoded frame (a command re-sent after NOSCRIPT).</summary>
    internal void AddFrame(ReadOnlySpan<byte> frame, RedisScript? script)
    {
        int start = StartCommand();
        _buffer.WriteRaw(frame);
        Finish(start, script);
    }

    /// <summary>Starts a command of <paramref name="argumentCount"/> arguments (name included); follow with Arg calls.</summary>
    public RedisBatch Begin(int argumentCount)
    {
        if (argumentCount < 1) throw new ArgumentOutOfRangeException(nameof(argumentCount));
        int start = StartCommand();
        _buffer.WriteArrayHeader(argumentCount);
        StartArguments(start, null, argumentCount);
        return this;
    }

    /// <summary>Starts a command whose first arguments are a prepared prefix (name, keys), followed by <paramref name="extraArguments"/> Arg calls.</summary>
    public RedisBatch Begin(PreparedCommand prefix, int extraArguments)
    {
        if (extraArguments < 0) throw new ArgumentOutOfRangeException(nameof(extraArguments));
        int start = StartCommand();
        _buffer.WriteArrayHeader(prefix.ArgumentCount + extraArguments);
        _buffer.WriteRaw(prefix.Arguments);
        StartArguments(start, null, extraArguments);
        return this;
    }

    /// <summary>Starts EVALSHA sha numkeys; follow with exactly <paramref name="keyCount"/> keys then <paramref name="argCount"/> args.</summary>
    public RedisBatch EvalSha(RedisScript script, int keyCount, int argCount)
    {
        if (keyCount < 0 || argCount < 0) throw new ArgumentOutOfRangeException(nameof(keyCount));
        int start = StartCommand();
        _buffer.WriteArrayHeader(3 + keyCount + argCount);
        _buffer.WriteRaw(script.EvalShaPrefix.Arguments);
        _buffer.WriteBulk(keyCount);
        StartArguments(start, script, keyCount + argCount);
        return this;
    }

    public RedisBatch Arg(ReadOnlySpan<byte> value)
    {
        TakeArgument();
        _buffer.WriteBulk(value);
        return EndArgument();
    }

    public RedisBatch Arg(long value)
    {
        TakeArgument();
        _buffer.WriteBulk(value);
        return EndArgument();
    }

    /// <summary>UTF-8 encoded in place; for values, not for keys (pass keys as pre-encoded bytes).</summary>
    public RedisBatch Arg(string value)
    {
        TakeArgument();
        _buffer.WriteBulk(value);
        return EndArgument();
    }

    /// <summary>Throws when a command was started but not given all its arguments (a bug in the caller).</summary>
    internal void EnsureComplete()
    {
        if (_pendingArguments != 0)
            throw new InvalidOperationException($"RedisBatch: the last command is missing {_pendingArguments} argument(s)");
        if (_count == 0) throw new InvalidOperationException("RedisBatch is empty");
    }

    private int _openStart;
    private RedisScript? _openScript;

    private int StartCommand()
    {
        if (_pendingArguments != 0)
            throw new InvalidOperationException($"RedisBatch: the previous command is missing {_pendingArguments} argument(s)");
        return _buffer.Length;
    }

    private void StartArguments(int start, RedisScript? script, int arguments)
    {
        if (arguments == 0)
        {
            Finish(start, script);
            return;
        }
        _openStart = start;
        _openScript = script;
        _pendingArguments = arguments;
    }

    private void TakeArgument()
    {
        if (_pendingArguments <= 0) throw new InvalidOperationException("RedisBatch: Arg called with no command expecting arguments");
    }

    private RedisBatch EndArgument()
    {
        if (--_pendingArguments == 0) Finish(_openStart, _openScript);
        return this;
    }

    private void Finish(int start, RedisScript? script)
    {
        if (_count == _entries.Length) Array.Resize(ref _entries, _count * 2);
        _entries[_count++] = new Entry { Start = start, Length = _buffer.Length - start, Script = script };
        _pendingArguments = 0;
    }

    public void Dispose() => _buffer.Dispose();
}
