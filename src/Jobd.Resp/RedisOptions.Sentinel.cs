// The Sentinel half of RedisOptions: which sentinels to ask and for which master name. When SentinelMaster is set,
// Host and Port name the first sentinel only; the data connection goes to the address the sentinels report.
using System.Collections.Generic;
using System.Text;

namespace Jobd.Resp;

/// <summary>One host:port pair (a sentinel, or a cluster node named by a MOVED reply).</summary>
public readonly record struct RedisEndpoint(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? "[" + Host + "]:" + Port : Host + ":" + Port;
}

public sealed partial record RedisOptions
{
    public const int SentinelPortDefault = 26379;

    /// <summary>The sentinels to ask, in order; null unless the URL was redis+sentinel:// or rediss+sentinel://.</summary>
    public IReadOnlyList<RedisEndpoint>? Sentinels { get; init; }

    /// <summary>The master name the sentinels monitor; non-null exactly when <see cref="Sentinels"/> is.</summary>
    public string? SentinelMaster { get; init; }

    public bool UsesSentinel => SentinelMaster is not null && Sentinels is { Count: > 0 };

    private void AppendSentinelTarget(StringBuilder sb)
    {
        for (int i = 0; i < Sentinels!.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(Sentinels[i].ToString());
        }
        sb.Append('/').Append(SentinelMaster).Append('/').Append(Database);
    }
}
