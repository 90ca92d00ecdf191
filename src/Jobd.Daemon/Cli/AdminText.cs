using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Ops;
using Jobd.Resp;

namespace Jobd.Cli;

/// <summary>Shared by the admin verbs (stats, job, dead): times, escaping, JSON output, Redis failures.</summary>
internal static class AdminText
{
    /// <summary>Exit 1: the job (or dead job) asked for does not exist.</summary>
    public const int NotFound = 1;

    public static bool TryLong(string? s, out long value) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>Unix ms as RFC 3339 UTC with milliseconds.</summary>
    public static string Time(long ms) =>
        ms is < 0 or > 253402300799999 ? ms.ToString(CultureInfo.InvariantCulture)
            : DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Writes one JSON document built by <paramref name="write"/> and a newline.</summary>
    public static void WriteJson(TextWriter stdout, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        // Relaxed escaping: the output is read by people and JSON parsers, never embedded in HTML, so quotes
        // inside args stay readable (\" rather than \u0022). Control characters are still escaped.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>Connects, runs <paramref name="body"/>, and maps Redis failures to one line and exit 69.</summary>
    public static async Task<int> WithRedisAsync(JobdConfig config, TextWriter stderr, Func<RedisClient, Task<int>> body)
    {
        try
        {
            await using var redis = await OneShotRedis.ConnectAsync(config.Redis).ConfigureAwait(false);
            return await body(redis).ConfigureAwait(false);
        }
        catch (RedisConnectionException e)
        {
            stderr.WriteLine("jobd: " + e.Message);
            return ExitCodes.Unavailable;
        }
        catch (RedisServerException e)
        {
            stderr.WriteLine("jobd: redis refused: " + TextEscape.Escape(e.Message));
            return ExitCodes.Unavailable;
        }
    }
}
