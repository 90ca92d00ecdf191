using System;
using System.Collections.Generic;
using System.IO;

namespace Jobd.Testing;

/// <summary>
/// Removes what earlier test runs left behind when their test host was killed before its exit handler ran: a
/// redis-server or Postgres whose parent is gone (re-parented to pid 1) and whose folder is one of ours is
/// stopped, and its folder deleted. Servers of a run still going have their test host as parent and are left
/// alone, so parallel runs never hurt each other.
/// </summary>
public static class StaleServers
{
    private static readonly object Gate = new();
    private static bool _swept;

    public static void SweepOnce()
    {
        lock (Gate)
        {
            if (_swept) return;
            _swept = true;
        }
        foreach (var proc in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            try
            {
                if (ParentOf(proc) != 1) continue;
                var folder = OurFolder(proc);
                if (folder is null) continue;
                // SIGQUIT: Postgres' immediate shutdown (its children follow); redis-server exits on it too.
                ChildProcess.Kill(pid, 3);
                TryDelete(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended meanwhile, or is not ours to inspect.
            }
        }
    }

    private static int ParentOf(string proc)
    {
        var stat = File.ReadAllText(Path.Combine(proc, "stat"));
        // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1]);
    }

    private static string? OurFolder(string proc)
    {
        var tmp = Path.GetTempPath();
        var candidates = new List<string>();
        try { candidates.Add(new DirectoryInfo(Path.Combine(proc, "cwd")).LinkTarget ?? ""); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        foreach (var arg in File.ReadAllText(Path.Combine(proc, "cmdline")).Split('\0')) candidates.Add(arg);
        foreach (var c in candidates)
        {
            foreach (var prefix in new[] { "jobd-redis-", "jobd-pg-" })
            {
                int at = c.IndexOf(Path.Combine(tmp, prefix), StringComparison.Ordinal);
                if (at < 0) continue;
                var rest = c[(at + tmp.Length)..];
                int slash = rest.IndexOf('/');
                return Path.Combine(tmp, slash < 0 ? rest : rest[..slash]);
            }
        }
        return null;
    }

    private static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
