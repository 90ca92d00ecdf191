// A Lua script with its SHA1 computed once. Run through RedisBatch.EvalSha; the connection reloads it with
// SCRIPT LOAD when the server answers NOSCRIPT (after a restart, failover or SCRIPT FLUSH: the script cache is
// neither persisted nor replicated, https://redis.io/docs/latest/develop/programmability/eval-intro/).
// Immutable and thread-safe.
using System;
using System.Text;

namespace Jobd.Resp;

/// <summary>A Lua script and its SHA1, computed once. Immutable and thread-safe; share one instance per script.</summary>
public sealed class RedisScript
{
    private static readonly byte[] EvalShaName = "EVALSHA"u8.ToArray();

    public RedisScript(string source)
    {
        Source = source;
        byte[] body = Encoding.UTF8.GetBytes(source);
        Sha1 = ScriptSha1.HexLower(body);
        ShaBytes = Encoding.ASCII.GetBytes(Sha1);
        Load = PreparedCommand.Create("SCRIPT"u8.ToArray(), "LOAD"u8.ToArray(), body);
        EvalShaPrefix = PreparedCommand.Create(EvalShaName, ShaBytes);
    }

    public string Source { get; }

    /// <summary>Lower-case hex SHA1 of the UTF-8 source, as Redis computes it.</summary>
    public string Sha1 { get; }

    internal byte[] ShaBytes { get; }

    /// <summary>SCRIPT LOAD with the body, encoded once.</summary>
    public PreparedCommand Load { get; }

    /// <summary>"EVALSHA sha": the fixed prefix of every call.</summary>
    internal PreparedCommand EvalShaPrefix { get; }

    public override string ToString() => "script " + Sha1;
}
