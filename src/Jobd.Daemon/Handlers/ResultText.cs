using System;
using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Jobd.Handlers;

/// <summary>
/// Turns bytes a route returned (http body, program stdout) into the job's result, which must be JSON: kept as is
/// when it is JSON, as a JSON string otherwise; cut at the limit, it becomes {"truncated":true,"text":"…"}.
/// </summary>
public static class ResultText
{
    public static string? FromBytes(ReadOnlySpan<byte> bytes, bool truncated)
    {
        if (!truncated && IsBlank(bytes)) return null;
        if (!truncated && IsJson(bytes)) return Encoding.UTF8.GetString(bytes);
        var text = Encoding.UTF8.GetString(bytes);
        var buffer = new ArrayBufferWriter<byte>(bytes.Length + 32);
        using (var w = new Utf8JsonWriter(buffer))
        {
            if (truncated)
            {
                w.WriteStartObject();
                w.WriteBoolean("truncated"u8, true);
                w.WriteString("text"u8, text);
                w.WriteEndObject();
            }
            else w.WriteStringValue(text);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A short, one-line excerpt for an error (stderr tail, a 4xx body).</summary>
    public static string Excerpt(string text, int max)
    {
        var sb = new StringBuilder(Math.Min(text.Length, max) + 8);
        foreach (char c in text)
        {
            if (sb.Length >= max) { sb.Append('…'); break; }
            sb.Append(char.IsControl(c) ? ' ' : c);
        }
        return sb.ToString().Trim();
    }

    private static bool IsBlank(ReadOnlySpan<byte> b)
    {
        foreach (var x in b)
            if (x is not ((byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')) return false;
        return true;
    }

    private static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 256 });
            while (reader.Read()) { }
            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
