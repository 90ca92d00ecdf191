using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Jobd.Queue;

/// <summary>
/// The one definition of acceptable job arguments, applied by `jobd enqueue` before sending and by the worker to
/// what it takes (a producer may skip the enqueue script): exactly one JSON object (RFC 8259) in I-JSON's
/// interoperable subset (RFC 7493): valid UTF-8, no escaped lone surrogate, no duplicate member names (parsers
/// disagree on which one wins, so a check in one language can be bypassed in another), nesting at most
/// <see cref="MaxDepth"/>, no comments, trailing commas, nothing before the object (a BOM, whitespace) or after it. One linear pass without
/// allocation for usual arguments; <c>\u0000</c> is valid JSON and allowed (the result sink stores it safely).
/// </summary>
public sealed class JsonArgs
{
    public const int MaxDepth = 64;

    [ThreadStatic] private static JsonArgs? _cached;

    private readonly HashSet<Name> _names;
    private readonly NameComparer _comparer;
    private byte[] _unescaped = new byte[256];
    private int _unescapedUsed;
    private ReadOnlyMemory<byte> _input;

    private JsonArgs()
    {
        _comparer = new NameComparer(this);
        _names = new HashSet<Name>(_comparer);
    }

    /// <summary>Null when the arguments are acceptable; otherwise one line naming the problem and where it is.</summary>
    public static string? Problem(ReadOnlyMemory<byte> utf8)
    {
        var checker = _cached ??= new JsonArgs();
        try
        {
            checker._input = utf8;
            return checker.Check(utf8.Span);
        }
        finally
        {
            checker.Reset();
        }
    }

    private string? Check(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8)) return "not valid UTF-8 at byte " + (FirstInvalidByte(utf8) + 1);
        if (utf8.StartsWith("\uFEFF"u8)) return "starts with a byte order mark (U+FEFF): send the JSON object alone";
        // The enqueue and take scripts look at the first byte only: it must open the object.
        if (utf8.IsEmpty || utf8[0] != '{') return "must be a JSON object starting at its first byte, such as {\"user_id\": 42}";
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 1000 });
        Span<int> objects = stackalloc int[MaxDepth + 1];
        int objectCount = 0, depth = 0;
        try
        {
            reader.Read();
            do
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (depth == MaxDepth) return $"nested deeper than {MaxDepth} levels at byte {reader.TokenStartIndex + 1}";
                        objects[depth++] = reader.TokenType == JsonTokenType.StartObject ? ++objectCount : 0;
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName:
                        if (reader.ValueIsEscaped && !SurrogatesPaired(reader.ValueSpan)) return LoneSurrogate(reader);
                        if (!_names.Add(NameOf(ref reader, objects[depth - 1]))) return $"duplicate key at byte {reader.TokenStartIndex + 1}";
                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped && !SurrogatesPaired(reader.ValueSpan)) return LoneSurrogate(reader);
                        break;
                }
            } while (depth > 0 && reader.Read());
            if (depth > 0) return "not valid JSON: it ends inside the object";
            // Without AllowMultipleValues, anything but whitespace after the object makes Read throw.
            reader.Read();
            return null;
        }
        catch (JsonException e)
        {
            return $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})";
        }
    }

    private static string LoneSurrogate(in Utf8JsonReader reader) =>
        $"a \\u escape of a lone surrogate at byte {reader.TokenStartIndex + 1}";

    /// <summary>Every \uD800-\uDBFF escape is followed by a \uDC00-\uDFFF one, and no low one stands alone.</summary>
    private static bool SurrogatesPaired(ReadOnlySpan<byte> raw)
    {
        bool wantLow = false;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\') { if (wantLow) return false; continue; }
            if (i + 1 >= raw.Length) return false;
            if (raw[i + 1] != 'u' || i + 5 >= raw.Length)
            {
                if (wantLow) return false;
                i++;
                continue;
            }
            int c = Hex(raw[i + 2]) << 12 | Hex(raw[i + 3]) << 8 | Hex(raw[i + 4]) << 4 | Hex(raw[i + 5]);
            bool high = c is >= 0xD800 and <= 0xDBFF, low = c is >= 0xDC00 and <= 0xDFFF;
            if (wantLow != low) return false;
            wantLow = high;
            i += 5;
        }
        return !wantLow;
    }

    private static int Hex(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private Name NameOf(ref Utf8JsonReader reader, int objectId)
    {
        if (!reader.ValueIsEscaped) return new Name(objectId, (int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, false);
        // Escaped names compare by what they mean ("a" and "\u0061" are the same key): keep the unescaped bytes.
        int need = reader.ValueSpan.Length;
        if (_unescapedUsed + need > _unescaped.Length) Array.Resize(ref _unescaped, Math.Max(_unescaped.Length * 2, _unescapedUsed + need));
        int written = reader.CopyString(_unescaped.AsSpan(_unescapedUsed));
        var name = new Name(objectId, _unescapedUsed, written, true);
        _unescapedUsed += written;
        return name;
    }

    private ReadOnlySpan<byte> Bytes(in Name n) => n.Unescaped ? _unescaped.AsSpan(n.Offset, n.Length) : _input.Span.Slice(n.Offset, n.Length);

    private static int FirstInvalidByte(ReadOnlySpan<byte> utf8)
    {
        int at = 0;
        while (at < utf8.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(utf8[at..], out _, out int used) != System.Buffers.OperationStatus.Done) return at;
            at += used;
        }
        return at;
    }

    private void Reset()
    {
        int count = _names.Count;
        _names.Clear();
        if (count > 4096) _names.TrimExcess();
        _unescapedUsed = 0;
        _input = default;
        if (_unescaped.Length > 64 * 1024) _unescaped = new byte[256];
    }

    /// <summary>A member name: where its bytes are (the input, or the unescaped buffer) and which object it is in.</summary>
    private readonly record struct Name(int ObjectId, int Offset, int Length, bool Unescaped);

    private sealed class NameComparer(JsonArgs owner) : IEqualityComparer<Name>
    {
        public bool Equals(Name a, Name b) => a.ObjectId == b.ObjectId && owner.Bytes(a).SequenceEqual(owner.Bytes(b));

        public int GetHashCode(Name n)
        {
            var h = new HashCode();
            h.Add(n.ObjectId);
            h.AddBytes(owner.Bytes(n));
            return h.ToHashCode();
        }
    }
}
