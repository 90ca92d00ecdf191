using System;
using System.IO;
using Jobd.Resp;

namespace Jobd.Queue;

/// <summary>
/// The protocol's Lua scripts (Scripts/*.lua, embedded), each loaded and hashed once per process. The worker
/// scripts get common.lua's helpers inserted after their "#!lua" line, so each helper is written once.
/// </summary>
public static class QueueScripts
{
    public static RedisScript Enqueue { get; } = new(Source("enqueue.lua"));
    public static RedisScript Take { get; } = new(WithCommon("take.lua"));
    public static RedisScript Tick { get; } = new(WithCommon("tick.lua"));
    public static RedisScript Reclaim { get; } = new(WithCommon("reclaim.lua"));
    public static RedisScript DeadRetry { get; } = new(WithCommon("dead_retry.lua"));
    public static RedisScript DeadPurge { get; } = new(Source("dead_purge.lua"));
    public static RedisScript OutboxAck { get; } = new(Source("outbox_ack.lua"));
    public static RedisScript CronFire { get; } = new(WithCommon("cron_fire.lua"));

    internal static string Source(string name)
    {
        using var stream = typeof(QueueScripts).Assembly.GetManifestResourceStream(name)
                           ?? throw new FileNotFoundException("embedded script missing: " + name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    internal static string WithCommon(string name)
    {
        var script = Source(name);
        int firstLineEnd = script.IndexOf('\n');
        if (!script.StartsWith("#!lua", StringComparison.Ordinal) || firstLineEnd < 0)
            throw new InvalidDataException(name + " must start with a #!lua line");
        return script[..(firstLineEnd + 1)] + Source("common.lua") + script[(firstLineEnd + 1)..];
    }
}
