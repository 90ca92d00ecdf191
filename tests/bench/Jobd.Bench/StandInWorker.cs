// The latency figure's reference: the least any worker can do between an enqueue and a job's start with jobd's
// queue layout. It makes the same hops as jobd (wake on a blocking pop of the wake lists, then one script that pops
// the job and writes its lease) and nothing else: no settlement, no checks, no bookkeeping. Drain: the same script
// back to back, the throughput floor of one script call per job.
using System;
using System.Threading;

namespace Jobd.Bench;

internal sealed class StandInWorker : IDisposable
{
    private const string Take =
        "local id = redis.call('RPOP', KEYS[1]) if id then redis.call('HSET', '{jobd}:job:' .. id, 'state', 'running') " +
        "redis.call('ZADD', KEYS[2], 1, id) end return id";
    private readonly int _port;
    private readonly Thread _thread;
    private volatile bool _stop;

    public StandInWorker(int port)
    {
        _port = port;
        _thread = new Thread(Run) { IsBackground = true, Name = "stand-in worker" };
        _thread.Start();
    }

    private void Run()
    {
        using var r = new MiniRedis(_port);
        while (!_stop)
        {
            if (r.Call("BLPOP", "{jobd}:wake:default", "{jobd}:wake", "1") is null) continue;
            r.Call("EVAL", Take, "2", "{jobd}:q:default", "{jobd}:leases");
        }
    }

    /// <summary>Runs the stand-in's script until the queue is empty, on this thread; returns jobs per second.</summary>
    public static double Drain(int port)
    {
        using var r = new MiniRedis(port);
        var sha = (string)r.Call("SCRIPT", "LOAD", Take)!;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        long n = 0;
        while (r.Call("EVALSHA", sha, "2", "{jobd}:q:default", "{jobd}:leases") is not null) n++;
        return n / System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
