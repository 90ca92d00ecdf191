// A growable byte buffer rented from ArrayPool, with the RESP2 request encoders (array header, bulk string,
// integer as bulk). Grows only when the caller writes more; returns its array to the pool on Dispose.
// Not thread-safe: owned by one batch or one connection.
using System;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace Jobd.Resp;

internal sealed class RespBuffer : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public RespBuffer(int initialCapacity = 256) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length => _length;
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        _length += bytes.Length;
    }

    public void WriteArrayHeader(int count) => WriteHeader((byte)'*', count);

    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        WriteHeader((byte)'$', value.Length);
        var span = Reserve(value.Length + 2);
        value.CopyTo(span);
        span[value.Length] = (byte)'\r';
        span[value.Length + 1] = (byte)'\n';
        _length += value.Length + 2;
    }

    public void WriteBulk(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        value.TryFormat(digits, out int written, default, CultureInfo.InvariantCulture);
        WriteBulk(digits[..written]);
    }

    /// <summary>UTF-8 encodes straight into the buffer: no intermediate byte[].</summary>
    public void WriteBulk(string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        WriteHeader((byte)'$', count);
        var span = Reserve(count + 2);
        Encoding.UTF8.GetBytes(value, span);
        span[count] = (byte)'\r';
        span[count + 1] = (byte)'\n';
        _length += count + 2;
    }

    private void WriteHeader(byte type, long value)
    {
        var span = Reserve(23);
        span[0] = type;
        value.TryFormat(span[1..], out int written, default, CultureInfo.InvariantCulture);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        _length += written + 3;
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + count);
            if (wanted > Array.MaxLength) throw new InvalidOperationException("RESP request larger than the largest array");
            var bigger = ArrayPool<byte>.Shared.Rent((int)wanted);
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_length);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
