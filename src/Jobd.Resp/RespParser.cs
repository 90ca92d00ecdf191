// RESP2 reply parsing over a span. Duties: TryMeasure finds where one complete reply ends without allocating
// (false = "need more bytes", throws RedisProtocolException only on malformed or oversized input); Parse turns a
// measured frame into a RedisReply. Never trusts a peer-supplied length for allocation: nothing is allocated until
// every byte of the frame is already buffered. Grammar: https://redis.io/docs/latest/develop/reference/protocol-spec/
using System;

namespace Jobd.Resp;

/// <summary>Stateless RESP2 reply parsing (thread-safe). Shape after Garnet's RespReadUtils: Try-methods that say
/// "need more bytes" with false and throw only on malformed input.</summary>
public static class RespParser
{
    /// <summary>Deepest nesting of arrays accepted; real replies nest a handful of levels (XREAD: 4).</summary>
    public const int MaxDepth = 32;

    // "-9223372036854775808" is 20 characters: a numeric line longer than this is malformed, not "need more".
    private const int MaxNumberLength = 20;

    /// <summary>
    /// Finds the length of the first complete reply in <paramref name="buffer"/>. Returns false when the buffer ends
    /// inside the reply. Throws <see cref="RedisProtocolException"/> when the bytes are not RESP2, when a bulk string
    /// or array announces more than <paramref name="maxLength"/> bytes or elements, or when arrays nest too deep.
    /// </summary>
    public static bool TryMeasure(ReadOnlySpan<byte> buffer, long maxLength, out int frameLength)
    {
        frameLength = 0;
        Span<long> remaining = stackalloc long[MaxDepth];
        int depth = 0;
        int pos = 0;
        while (true)
        {
            if (pos >= buffer.Length) return false;
            byte type = buffer[pos];
            int lineEnd;
            switch (type)
            {
                case (byte)'+':
                case (byte)'-':
                    if (!TryFindLineEnd(buffer, pos + 1, maxLength, out lineEnd)) return false;
                    pos = lineEnd + 2;
                    break;
                case (byte)':':
                    if (!TryReadNumberLine(buffer, pos + 1, out _, out lineEnd)) return false;
                    pos = lineEnd + 2;
                    break;
                case (byte)'$':
                {
                    if (!TryReadNumberLine(buffer, pos + 1, out long length, out lineEnd)) return false;
                    CheckLength(length, maxLength, "bulk string", pos);
                    pos = lineEnd + 2;
                    if (length >= 0)
                    {
                        if (buffer.Length - pos < length + 2) return false;
                        int end = pos + (int)length;
                        if (buffer[end] != (byte)'\r' || buffer[end + 1] != (byte)'\n')
                            throw Malformed("bulk string is not followed by CRLF", end);
                        pos = end + 2;
                    }
                    break;
                }
                case (byte)'*':
                {
                    if (!TryReadNumberLine(buffer, pos + 1, out long count, out lineEnd)) return false;
                    CheckLength(count, maxLength, "array", pos);
                    pos = lineEnd + 2;
                    if (count > 0)
                    {
                        if (depth == MaxDepth) throw Malformed($"arrays nested deeper than {MaxDepth}", pos);
                        remaining[depth++] = count;
                        continue; // the array completes when its last element does
                    }
                    break;
                }
                default:
                    throw Malformed($"unexpected type byte 0x{type:x2}", pos);
            }
            // One element finished: close every array whose last element it was.
            while (depth > 0 && --remaining[depth - 1] == 0) depth--;
            if (depth == 0)
            {
                frameLength = pos;
                return true;
            }
        }
    }

    /// <summary>Reads one reply if the buffer holds all of it. Same contract as <see cref="TryMeasure"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, long maxLength, out RedisReply reply, out int consumed)
    {
        if (!TryMeasure(buffer, maxLength, out consumed))
        {
            reply = default;
            return false;
        }
        reply = Parse(buffer[..consumed]);
        return true;
    }

    /// <summary>Builds the reply of a frame that <see cref="TryMeasure"/> accepted.</summary>
    public static RedisReply Parse(ReadOnlySpan<byte> frame)
    {
        int pos = 0;
        return ParseElement(frame, ref pos);
    }

    private static RedisReply ParseElement(ReadOnlySpan<byte> s, ref int pos)
    {
        byte type = s[pos];
        int lineEnd = s[(pos + 1)..].IndexOf((byte)'\r') + pos + 1;
        ReadOnlySpan<byte> line = s[(pos + 1)..lineEnd];
        pos = lineEnd + 2;
        switch (type)
        {
            case (byte)'+':
                if (line.SequenceEqual(RespCached.Ok)) return RedisReply.Simple(RespCached.Ok);
                if (line.SequenceEqual(RespCached.Pong)) return RedisReply.Simple(RespCached.Pong);
                if (line.SequenceEqual(RespCached.Queued)) return RedisReply.Simple(RespCached.Queued);
                return RedisReply.Simple(line.ToArray());
            case (byte)'-':
                return RedisReply.FromError(RedisServerException.FromLine(System.Text.Encoding.UTF8.GetString(line)));
            case (byte)':':
                return RedisReply.FromInteger(ParseNumber(line));
            case (byte)'$':
            {
                long length = ParseNumber(line);
                if (length < 0) return RedisReply.NilBulk;
                byte[] bytes = length == 0 ? RespCached.EmptyBytes : s.Slice(pos, (int)length).ToArray();
                pos += (int)length + 2;
                return RedisReply.Bulk(bytes);
            }
            default:
            {
                long count = ParseNumber(line);
                if (count < 0) return RedisReply.NilArrayReply;
                if (count == 0) return RedisReply.FromArray(RespCached.EmptyArray);
                var items = new RedisReply[count];
                for (int i = 0; i < items.Length; i++) items[i] = ParseElement(s, ref pos);
                return RedisReply.FromArray(items);
            }
        }
    }

    private static bool TryFindLineEnd(ReadOnlySpan<byte> buffer, int start, long maxLength, out int lineEnd)
    {
        int cr = buffer[start..].IndexOfAny((byte)'\r', (byte)'\n');
        if (cr < 0)
        {
            if (buffer.Length - start > maxLength) throw Malformed($"line longer than {maxLength} bytes", start);
            lineEnd = 0;
            return false;
        }
        lineEnd = start + cr;
        if (buffer[lineEnd] != (byte)'\r') throw Malformed("bare LF inside a line", lineEnd);
        if (lineEnd + 1 >= buffer.Length) return false;
        if (buffer[lineEnd + 1] != (byte)'\n') throw Malformed("CR not followed by LF", lineEnd);
        return true;
    }

    private static bool TryReadNumberLine(ReadOnlySpan<byte> buffer, int start, out long value, out int lineEnd)
    {
        value = 0;
        if (!TryFindLineEnd(buffer, start, MaxNumberLength, out lineEnd)) return false;
        var digits = buffer[start..lineEnd];
        if (digits.Length > MaxNumberLength) throw Malformed("number too long", start);
        if (!TryParseNumber(digits, out value)) throw Malformed("not a number", start);
        return true;
    }

    private static long ParseNumber(ReadOnlySpan<byte> digits)
    {
        TryParseNumber(digits, out long value);
        return value;
    }

    /// <summary>Strict RESP integer: an optional '-', then 1 to 19 decimal digits, no overflow.</summary>
    internal static bool TryParseNumber(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        bool negative = text.Length > 0 && text[0] == (byte)'-';
        if (negative) text = text[1..];
        if (text.Length == 0 || text.Length > 19) return false;
        ulong acc = 0;
        foreach (byte b in text)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            acc = acc * 10 + d;
        }
        if (negative)
        {
            if (acc > 9223372036854775808UL) return false;
            value = (long)(0 - acc);
        }
        else
        {
            if (acc > long.MaxValue) return false;
            value = (long)acc;
        }
        return true;
    }

    private static void CheckLength(long length, long maxLength, string what, int offset)
    {
        if (length < -1) throw Malformed($"{what} length {length}", offset);
        if (length > maxLength)
            throw new RedisProtocolException($"reply {what} of {length} exceeds the limit of {maxLength} (MaxReplyBytes); connection closed");
    }

    private static RedisProtocolException Malformed(string what, int offset) =>
        new($"malformed RESP reply: {what} at byte {offset}; connection closed");
}
