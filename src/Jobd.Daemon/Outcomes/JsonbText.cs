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
        if (value.Contains("\\u0000", StringComparison.OrdinalIgnoreCase) || HasLoneSurrogateEscape(value) || !IsJson(value))
            return AsJsonString(value);
        return value;
    }

    public static string Text(string value) => value.Contains('\0') ? value.Replace('\0', '\uFFFD') : value;

    /// <summary>
    /// jsonb refuses a \uD800–\uDFFF escape that is not a high-low pair (22P02), where System.Text.Json accepts
    /// it: one such value blocked every outcome behind it.
    /// </summary>
    private static bool HasLoneSurrogateEscape(string value)
    {
        bool expectLow = false;
        for (int i = value.IndexOf('\\'); i >= 0 && i < value.Length; i++)
        {
            if (value[i] != '\\')
            {
                if (expectLow) return true;
                continue;
            }
            if (i + 1 >= value.Length) break;
            if (value[i + 1] != 'u' || i + 6 > value.Length)
            {
                if (expectLow) return true;
                i++; // an escaped character such as a backslash or a quote
                continue;
            }
            if (!int.TryParse(value.AsSpan(i + 2, 4), System.Globalization.NumberStyles.AllowHexSpecifier,
                    System.Globalization.CultureInfo.InvariantCulture, out int unit)) return false; // not JSON: IsJson decides
            bool high = unit is >= 0xD800 and <= 0xDBFF, low = unit is >= 0xDC00 and <= 0xDFFF;
            if (expectLow != low) return true;
            expectLow = high;
            i += 5;
        }
        return expectLow;
    }

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
