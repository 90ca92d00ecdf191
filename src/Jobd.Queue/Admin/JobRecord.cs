using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Queue.Admin;

/// <summary>One job's hash as stored (PROTOCOL.md, "The job hash"), for `jobd job`.</summary>
public static class JobRecord
{
    /// <summary>The fields that hold Redis times in Unix ms.</summary>
    public static bool IsTimeField(string field) => field is "enqueued_at" or "run_at" or "started_at" or "finished_at";

    /// <summary>The job's fields in the order Redis returns them, or null when the job does not exist (or expired).</summary>
    public static async ValueTask<List<KeyValuePair<string, string>>?> ReadAsync(RedisClient redis, QueueKeys keys, string id,
        CancellationToken cancellationToken = default)
    {
        using var batch = new RedisBatch();
        batch.Begin(2).Arg("HGETALL").Arg(keys.Job(id));
        var items = (await redis.ExecuteAsync(batch, cancellationToken).ConfigureAwait(false)).ThrowIfError().Items;
        if (items is null || items.Length == 0) return null;
        var fields = new List<KeyValuePair<string, string>>(items.Length / 2);
        for (int i = 0; i + 1 < items.Length; i += 2) fields.Add(new(items[i].AsString()!, items[i + 1].AsString() ?? ""));
        return fields;
    }
}
