using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Jobd.Outcomes;

/// <summary>
/// Makes a job's args or result safe to cast to jsonb, so one odd value can never block the outbox: valid JSON
/// passes as is; anything else (not JSON, or holding \u0000, which jsonb refuses) is stored as a JSON string of
/// its text. NUL characters are replaced in every text column, as Postgres text cannot hold them.
/// </summary>
public static class JsonbText
{
    /// <summary>Null for an empty value (no result): the column stays NULL.</summary>
    public static string? From(string value)
    {
        if (value.Length == 0) return null;
        if (value.Contains("\\u0000", StringComparison.OrdinalIgnoreCase) || !IsJson(value)) return AsJsonString(value);
        return value;
    }

    public static string Text(string value) => value.Contains('\0') ? value.Replace('\0', '\uFFFD') : value;

    private static bool IsJson(string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = Encoding.UTF8.GetBytes(value, buffer);
            var reader = new Utf8JsonReader(buffer.AsSpan(0, n), new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string AsJsonString(string value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            writer.WriteStringValue(Text(value));
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
