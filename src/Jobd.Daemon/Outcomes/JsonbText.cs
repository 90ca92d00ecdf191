using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Jobd.Outcomes;

/// <summary>
/// Makes a job's args or result safe to cast to jsonb, so one odd value can never block the outbox: valid JSON
/// passes as is; anything else is stored as a JSON string of its text. "Valid" is what jsonb accepts, which is
/// stricter than Utf8JsonReader: an escaped \u0000 and an unpaired surrogate escape (\ud800, what a string cut in
/// the middle of an emoji serialises to) are refused by Postgres, so every escaped string is decoded here to
/// find them. NUL characters are replaced in every text column, as Postgres text cannot hold them.
/// </summary>
public static class JsonbText
{
    /// <summary>Null for an empty value (no result): the column stays NULL.</summary>
    public static string? From(string value)
    {
        if (value.Length == 0) return null;
        return IsJsonbSafe(value) ? value : AsJsonString(value);
    }

    public static string Text(string value) => value.Contains('\0') ? value.Replace('\0', '\uFFFD') : value;

    internal static bool IsJsonbSafe(string value)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            int n = Encoding.UTF8.GetBytes(value, buffer);
            var reader = new Utf8JsonReader(buffer.AsSpan(0, n), new JsonReaderOptions { MaxDepth = 64 });
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped) continue;
                // Throws on an unpaired surrogate escape; a decoded NUL is refused by jsonb too.
                if (reader.GetString()!.Contains('\0')) return false;
            }
            return reader.BytesConsumed == n && reader.CurrentDepth == 0 && n > 0;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
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
