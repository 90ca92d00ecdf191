using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading.Tasks;
using Jobd.Testing;

namespace Jobd.EndToEnd.Tests;

/// <summary>Starts `jobd run` and `jobd enqueue` against one Redis database and reads job state back.</summary>
public sealed class WorkerHarness
{
    public static readonly TimeSpan Startup = TimeSpan.FromSeconds(15);
    private readonly string _redisUrl;
    private readonly Func<RedisProbe> _probe;

    public WorkerHarness(string redisUrl, Func<RedisProbe> probe)
    {
        _redisUrl = redisUrl;
        _probe = probe;
    }

    public async Task<ChildProcess> StartWorkerAsync(params (string, string)[] env)
    {
        var vars = new List<(string, string)> { ("REDIS_URL", _redisUrl), ("JOBD_LOG_JOBS", "1") };
        vars.AddRange(env);
        var worker = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(vars.ToArray()));
        await worker.Stderr.WaitAsync(l => l.Contains(" ready: queues", StringComparison.Ordinal), Startup, "the worker to be ready");
        return worker;
    }

    public async Task<string[]> EnqueueAsync(string jsonLines)
    {
        await using var p = JobdBinary.Start(new[] { "enqueue", "--batch" }, JobdBinary.Env(("REDIS_URL", _redisUrl)));
        await p.Stdin.WriteAsync(jsonLines);
        p.Stdin.Close();
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        if (code != 0) throw new InvalidOperationException("enqueue failed: " + string.Join("\n", p.Stderr.Snapshot()));
        return new List<string>(p.Stdout.Snapshot()).ToArray();
    }

    public static string Lines(int count, string json)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++) sb.Append(json).Append('\n');
        return sb.ToString();
    }

    public string? Field(string id, string field)
    {
        using var p = _probe();
        return (string?)p.Call("HGET", "{jobd}:job:" + id, field);
    }

    public long Count(string command, string key)
    {
        using var p = _probe();
        return (long)p.Call(command, key)!;
    }

    public long FieldLong(string id, string field) => long.Parse(Field(id, field) ?? "-1", CultureInfo.InvariantCulture);

    /// <summary>Awaits a job state through the worker's own log lines, not by polling Redis.</summary>
    public static Task<string> LogLineAsync(ChildProcess worker, string contains, TimeSpan timeout) =>
        worker.Stderr.WaitAsync(l => l.Contains(contains, StringComparison.Ordinal), timeout, "log line containing '" + contains + "'");
}
