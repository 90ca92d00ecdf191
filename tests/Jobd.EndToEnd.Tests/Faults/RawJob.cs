using System;
using System.Collections.Generic;
using System.Text;
using Jobd.Testing;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// A job written straight into Redis the way PROTOCOL.md describes the hash ("The job hash"), by a producer that
/// skips the enqueue script: HSET of the fields, LPUSH of the id onto its queue, a wake token. Fields can be left
/// out (null) or given as raw bytes (invalid UTF-8, a 20 MB value), so the worker meets exactly what a buggy or
/// hostile producer would leave there.
/// </summary>
public static class RawJob
{
    /// <summary>The fields the enqueue script would write for a ready job, as text.</summary>
    public static Dictionary<string, byte[]?> Fields(string type = "noop", string args = "{}", string queue = "default")
    {
        string now = FaultRun.NowMs().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Dictionary<string, byte[]?>(StringComparer.Ordinal)
        {
            ["type"] = Utf8(type), ["queue"] = Utf8(queue), ["args"] = Utf8(args), ["state"] = Utf8("ready"),
            ["attempt"] = Utf8("0"), ["max_attempts"] = Utf8("25"), ["timeout_ms"] = Utf8(""), ["recoveries"] = Utf8("0"),
            ["enqueued_at"] = Utf8(now), ["run_at"] = Utf8(now), ["unique"] = Utf8(""),
        };
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Writes the hash (fields whose value is null are left out) and makes the job ready on <paramref name="queue"/>.</summary>
    public static void Write(RedisProbe p, string id, Dictionary<string, byte[]?> fields, string queue = "default")
    {
        var hset = new List<byte[]> { Utf8("HSET"), Utf8("{jobd}:job:" + id) };
        foreach (var (k, v) in fields)
        {
            if (v is null) continue;
            hset.Add(Utf8(k));
            hset.Add(v);
        }
        p.CallBytes(hset.ToArray());
        p.Call("LPUSH", "{jobd}:q:" + queue, id);
        p.Call("LPUSH", "{jobd}:wake", "1");
    }
}
