// jobd-bench: throughput and allocation measurements, printed as a report. Not a test: nothing here asserts.
// Usage: jobd-bench resp <redis-port> [seconds-per-run]
//        jobd-bench suite <jobd-binary> <out-dir> [--smoke]
using System;
using System.Threading.Tasks;

namespace Jobd.Bench;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length >= 2 && args[0] == "resp" && int.TryParse(args[1], out int port))
        {
            double seconds = args.Length >= 3 && double.TryParse(args[2], System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 3;
            await RespBenchmark.RunAsync(port, TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
            return 0;
        }
        if (args.Length >= 3 && args[0] == "suite")
        {
            bool smoke = args.Length >= 4 && args[3] == "--smoke";
            var o = smoke ? SuiteOptions.SmokeRun(args[1], args[2]) : SuiteOptions.Full(args[1], args[2]);
            return await Suite.RunAsync(o).ConfigureAwait(false);
        }
        Console.Error.WriteLine("usage: jobd-bench resp <redis-port> [seconds-per-run]\n       jobd-bench suite <jobd-binary> <out-dir> [--smoke]");
        return 64;
    }
}
