// Mode "resp": round trips per second on one connection for PING and a small EVALSHA (median of 3 runs), next to
// redis-benchmark with one client and no pipelining against the same server in the same run, and the bytes
// allocated per pre-encoded command in steady state.
using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Bench;

internal static class RespBenchmark
{
    private const int Runs = 3;
    private const int WarmUpCalls = 20_000;
    private const int AllocationCalls = 100_000;
    private const string SmallScript = "return redis.call('INCR', KEYS[1])";

    public static async Task RunAsync(int port, TimeSpan perRun)
    {
        var options = new RedisOptions { Host = "127.0.0.1", Port = port };
        await using var connection = await RedisConnection.ConnectAsync(options).ConfigureAwait(false);
        var ping = PreparedCommand.Create("PING");
        var script = new RedisScript(SmallScript);
        using var evalSha = new RedisBatch();
        evalSha.EvalSha(script, 1, 0).Arg("jobd-bench:counter"u8); // encoded once, re-sent as is
        await connection.ExecuteAsync(evalSha).ConfigureAwait(false); // loads the script (NOSCRIPT fallback)

        Console.WriteLine($"jobd-bench resp: 127.0.0.1:{port}, one connection, {Runs} rounds of {perRun.TotalSeconds:0.#}s per measurement, medians");
        await WarmUpAsync(() => connection.ExecuteAsync(ping)).ConfigureAwait(false);
        await WarmUpAsync(() => connection.ExecuteAsync(evalSha)).ConfigureAwait(false);
        // Rounds interleave jobd and redis-benchmark so background load on the machine hits both alike.
        var ours = new double[2, Runs];
        var theirs = new double[2, Runs];
        var raw = new double[1, Runs];
        for (int round = 0; round < Runs; round++)
        {
            ours[0, round] = await RateAsync(() => connection.ExecuteAsync(ping), perRun).ConfigureAwait(false);
            theirs[0, round] = RedisBenchmarkTool.Run(port, ["-t", "ping_mbulk"]);
            raw[0, round] = RawSocketBaseline.Rate(port, perRun);
            ours[1, round] = await RateAsync(() => connection.ExecuteAsync(evalSha), perRun).ConfigureAwait(false);
            theirs[1, round] = RedisBenchmarkTool.Run(port, ["EVALSHA", script.Sha1, "1", "jobd-bench:counter"]);
            Console.WriteLine($"round {round + 1}: PING {ours[0, round]:0} vs {theirs[0, round]:0} rt/s (raw socket {raw[0, round]:0}); EVALSHA {ours[1, round]:0} vs {theirs[1, round]:0} rt/s");
        }
        var pingAlloc = await AllocationsAsync(() => connection.ExecuteAsync(ping)).ConfigureAwait(false);
        var evalAlloc = await AllocationsAsync(() => connection.ExecuteAsync(evalSha)).ConfigureAwait(false);

        string[] names = ["PING   ", "EVALSHA"];
        for (int t = 0; t < 2; t++)
        {
            double a = Median(ours, t), b = Median(theirs, t);
            Console.WriteLine($"{names[t]}  jobd.resp {a,9:0} rt/s   redis-benchmark -c 1 -P 1 {b,9:0} rt/s   ratio of medians {Ratio(a, b)}, "
                              + $"median of per-round ratios {Ratio(MedianRatio(ours, theirs, t), 1)}");
        }
        Console.WriteLine($"PING over a raw blocking socket in this process: {Median(raw, 0):0} rt/s (ratio {Ratio(Median(raw, 0), Median(theirs, 0))} to redis-benchmark)");
        Console.WriteLine($"allocated per PING:    {pingAlloc.Thread:0.###} B (this thread), {pingAlloc.Process:0.###} B (whole process)");
        Console.WriteLine($"allocated per EVALSHA: {evalAlloc.Thread:0.###} B (this thread), {evalAlloc.Process:0.###} B (whole process)");
    }

    /// <summary>Each round runs both clients back to back, so its ratio is the least disturbed by load elsewhere.</summary>
    private static double MedianRatio(double[,] ours, double[,] theirs, int test)
    {
        var row = new double[Runs];
        for (int i = 0; i < Runs; i++) row[i] = ours[test, i] / theirs[test, i];
        Array.Sort(row);
        return row[Runs / 2];
    }

    private static double Median(double[,] rates, int test)
    {
        var row = new double[Runs];
        for (int i = 0; i < Runs; i++) row[i] = rates[test, i];
        Array.Sort(row);
        return row[Runs / 2];
    }

    private static string Ratio(double ours, double theirs) =>
        theirs > 0 ? (ours / theirs).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a";

    private static async Task WarmUpAsync(Func<ValueTask<RedisReply>> call)
    {
        for (int i = 0; i < WarmUpCalls; i++) await call().ConfigureAwait(false);
    }

    private static async Task<double> RateAsync(Func<ValueTask<RedisReply>> call, TimeSpan perRun)
    {
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < perRun)
        {
            for (int i = 0; i < 1000; i++) await call().ConfigureAwait(false);
            calls += 1000;
        }
        return calls / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Bytes per call in steady state, measured on the calling thread and across the whole process.</summary>
    private static async Task<(double Thread, double Process)> AllocationsAsync(Func<ValueTask<RedisReply>> call)
    {
        for (int i = 0; i < WarmUpCalls; i++) await call().ConfigureAwait(false);
        long thread = 0;
        long processBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < AllocationCalls; i++)
        {
            // Per call, so a continuation resumed on another thread pool thread is not mistaken for an allocation.
            long before = GC.GetAllocatedBytesForCurrentThread();
            var pending = call();
            if (pending.IsCompleted)
            {
                pending.GetAwaiter().GetResult();
                thread += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            else
            {
                thread += GC.GetAllocatedBytesForCurrentThread() - before;
                await pending.ConfigureAwait(false);
            }
        }
        long process = GC.GetTotalAllocatedBytes(precise: true) - processBefore;
        return ((double)thread / AllocationCalls, (double)process / AllocationCalls);
    }
}
