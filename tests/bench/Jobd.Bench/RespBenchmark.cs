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

        Console.WriteLine($"jobd-bench resp: 127.0.0.1:{port}, one connection, {Runs} runs of {perRun.TotalSeconds:0.#}s, median");
        double pingRate = await MedianAsync(() => connection.ExecuteAsync(ping), perRun).ConfigureAwait(false);
        double evalRate = await MedianAsync(() => connection.ExecuteAsync(evalSha), perRun).ConfigureAwait(false);
        var pingAlloc = await AllocationsAsync(() => connection.ExecuteAsync(ping)).ConfigureAwait(false);
        var evalAlloc = await AllocationsAsync(() => connection.ExecuteAsync(evalSha)).ConfigureAwait(false);

        double redisPing = RedisBenchmarkTool.Median(port, ["-t", "ping_mbulk"], Runs);
        double redisEval = RedisBenchmarkTool.Median(port, ["EVALSHA", script.Sha1, "1", "jobd-bench:counter"], Runs);

        Console.WriteLine($"PING     jobd.resp {pingRate,10:0} rt/s   redis-benchmark -c 1 -P 1 {redisPing,10:0} rt/s   ratio {Ratio(pingRate, redisPing)}");
        Console.WriteLine($"EVALSHA  jobd.resp {evalRate,10:0} rt/s   redis-benchmark -c 1 -P 1 {redisEval,10:0} rt/s   ratio {Ratio(evalRate, redisEval)}");
        Console.WriteLine($"allocated per PING:    {pingAlloc.Thread:0.###} B (this thread), {pingAlloc.Process:0.###} B (whole process)");
        Console.WriteLine($"allocated per EVALSHA: {evalAlloc.Thread:0.###} B (this thread), {evalAlloc.Process:0.###} B (whole process)");
    }

    private static string Ratio(double ours, double theirs) =>
        theirs > 0 ? (ours / theirs).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a";

    private static async Task<double> MedianAsync(Func<ValueTask<RedisReply>> call, TimeSpan perRun)
    {
        for (int i = 0; i < WarmUpCalls; i++) await call().ConfigureAwait(false);
        var rates = new double[Runs];
        for (int run = 0; run < Runs; run++)
        {
            long calls = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < perRun)
            {
                for (int i = 0; i < 1000; i++) await call().ConfigureAwait(false);
                calls += 1000;
            }
            rates[run] = calls / clock.Elapsed.TotalSeconds;
        }
        Array.Sort(rates);
        return rates[Runs / 2];
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
