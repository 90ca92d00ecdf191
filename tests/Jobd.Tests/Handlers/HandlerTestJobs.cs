using System.Collections.Generic;
using Jobd.Config;
using Jobd.Handlers.Routes;
using Jobd.Queue;

namespace Jobd.Tests.Handlers;

internal static class HandlerTestJobs
{
    public static RunningJob Job(string type = "t1", string args = "{\"a\":1}", int attempt = 1, long? timeoutMs = null) => new()
    {
        Id = "j-" + System.Guid.NewGuid().ToString("N")[..12],
        Type = type,
        Queue = "default",
        ArgsJson = args,
        Attempt = attempt,
        MaxAttempts = 5,
        TimeoutMs = timeoutMs,
        Recoveries = 0,
        EnqueuedAtMs = 1_700_000_000_000,
        Token = "tok",
    };

    public static JobdConfig LoadConfig(params (string, string)[] pairs)
    {
        var env = new Dictionary<string, string>(System.StringComparer.Ordinal) { ["PATH"] = "/usr/bin:/bin", ["HOME"] = "/root" };
        foreach (var (k, v) in pairs) env[k] = v;
        return ConfigLoader.Load(env);
    }

    public static RouteTable Routes(params (string, string)[] pairs) => LoadConfig(pairs).Routes;
}
