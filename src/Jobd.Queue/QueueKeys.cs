using System;
using System.Collections.Concurrent;
using System.Text;

namespace Jobd.Queue;

/// <summary>
/// Every Redis key of one jobd application, built in this one place (PROTOCOL.md, "Keys"). All keys share the
/// hash tag {PREFIX}, so every script touches a single Redis Cluster slot and one blocking wait can serve all
/// queues. Fixed keys are encoded once; per-queue keys are cached; only per-job keys are built per call.
/// </summary>
public sealed class QueueKeys
{
    public const string PrefixDefault = "jobd";
    private readonly ConcurrentDictionary<string, byte[]> _queues = new(StringComparer.Ordinal);
    private readonly byte[] _jobPrefix;
    private readonly byte[] _uniquePrefix;

    public QueueKeys(string prefix)
    {
        if (!Names.IsPrefix(prefix)) throw new ArgumentException(Names.PrefixRule, nameof(prefix));
        Prefix = prefix;
        Tag = "{" + prefix + "}";
        Scheduled = Encode(":scheduled");
        Wake = Encode(":wake");
        QueueSet = Encode(":queues");
        Leases = Encode(":leases");
        Workers = Encode(":workers");
        Dead = Encode(":dead");
        Stats = Encode(":stats");
        Outbox = Encode(":outbox");
        Cron = Encode(":cron");
        Marker = Encode(":marker");
        KeyPrefix = Encode(":");
        _jobPrefix = Encode(":job:");
        _uniquePrefix = Encode(":unique:");
    }

    public string Prefix { get; }

    /// <summary>"{prefix}": the Cluster hash tag that starts every key.</summary>
    public string Tag { get; }

    public byte[] Scheduled { get; }
    /// <summary>
    /// {P}:wake: the list of timer tokens (a new earliest scheduled job), which every idle worker waits on, and the
    /// prefix of the per-queue wake lists (scripts are passed it and build {P}:wake:&lt;queue&gt;).
    /// </summary>
    public byte[] Wake { get; }
    public byte[] QueueSet { get; }
    public byte[] Leases { get; }
    public byte[] Workers { get; }
    public byte[] Dead { get; }
    public byte[] Stats { get; }

    /// <summary>The stream of outcomes waiting for the result sink (only with DATABASE_URL).</summary>
    public byte[] Outbox { get; }
    /// <summary>{P}:cron: cron schedule name -> last fire time enqueued (Unix ms).</summary>
    public byte[] Cron { get; }

    /// <summary>{P}:marker: a random epoch written by the first worker; its loss means Redis lost jobd's data.</summary>
    public byte[] Marker { get; }

    /// <summary>"{P}:": scripts build per-job keys from it, in the same slot as their declared keys.</summary>
    public byte[] KeyPrefix { get; }

    public byte[] Worker(string workerId) => Encode(":worker:" + workerId);

    /// <summary>{P}:unique: alone, passed to the enqueue script when a job has no uniqueness key.</summary>
    public byte[] NoUnique => _uniquePrefix;

    public byte[] Queue(string name) => _queues.GetOrAdd(name, n => Encode(":q:" + n));

    /// <summary>{P}:wake:&lt;queue&gt;: the wake tokens of one queue (scripts are passed <see cref="Wake"/>, its prefix).</summary>
    public byte[] WakeList(string queue) => Encode(":wake:" + queue);

    public byte[] Job(string id) => Concat(_jobPrefix, id);

    public byte[] Unique(string key) => Concat(_uniquePrefix, key);

    public string Text(byte[] key) => Encoding.UTF8.GetString(key);

    private byte[] Encode(string suffix) => Encoding.UTF8.GetBytes(Tag + suffix);

    private static byte[] Concat(byte[] prefix, string tail)
    {
        var key = new byte[prefix.Length + Encoding.UTF8.GetByteCount(tail)];
        prefix.CopyTo(key, 0);
        Encoding.UTF8.GetBytes(tail, key.AsSpan(prefix.Length));
        return key;
    }
}
