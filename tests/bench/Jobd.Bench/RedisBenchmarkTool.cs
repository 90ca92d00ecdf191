// Runs redis-benchmark (one client, no pipelining, quiet output) and reads its "requests per second" figure.
using System;
using System.Diagnostics;
using System.Globalization;

namespace Jobd.Bench;

internal static class RedisBenchmarkTool
{
    public static double Run(int port, string[] test, int requests = 100_000)
    {
        var psi = new ProcessStartInfo("redis-benchmark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", "1", "-P", "1", "-n", requests.ToString(CultureInfo.InvariantCulture), "-q" })
            psi.ArgumentList.Add(a);
        foreach (var a in test) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start redis-benchmark");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        // Quiet mode ends each test with "NAME: 51234.56 requests per second, p50=0.015 msec"; progress uses '\r'.
        string last = output.Replace('\r', '\n').TrimEnd();
        int end = last.LastIndexOf(" requests per second", StringComparison.Ordinal);
        if (end < 0) throw new InvalidOperationException("unexpected redis-benchmark output: " + last);
        int start = last.LastIndexOf(": ", end, StringComparison.Ordinal) + 2;
        return double.Parse(last[start..end], CultureInfo.InvariantCulture);
    }
}
