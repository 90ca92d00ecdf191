using System.IO;
using Jobd.Resp;

namespace Jobd.Queue;

/// <summary>The protocol's Lua scripts (Scripts/*.lua, embedded), each loaded and hashed once per process.</summary>
public static class QueueScripts
{
    public static RedisScript Enqueue { get; } = Load("enqueue.lua");

    internal static string Source(string name)
    {
        using var stream = typeof(QueueScripts).Assembly.GetManifestResourceStream(name)
                           ?? throw new FileNotFoundException("embedded script missing: " + name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static RedisScript Load(string name) => new(Source(name));
}
