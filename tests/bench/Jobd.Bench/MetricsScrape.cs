// Reads one counter of a jobd's /metrics (JOBD_METRICS_ADDR): the round trips jobd counts itself.
using System;
using System.Globalization;
using System.Net.Http;

namespace Jobd.Bench;

internal static class MetricsScrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>jobd_redis_round_trips_total{connection="…"} of the jobd serving metrics on 127.0.0.1:port.</summary>
    public static long RoundTrips(int port, string connection)
    {
        string text = Http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
        string prefix = "jobd_redis_round_trips_total{connection=\"" + connection + "\"} ";
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(prefix.Length), CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no " + prefix.TrimEnd() + " in /metrics");
    }
}
