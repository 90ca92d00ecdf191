using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace Jobd.Handlers.Exec;

/// <summary>
/// Ends a program and everything it started. System.Diagnostics.Process cannot put the child in its own process
/// group, so the tree is found through /proc (parent pids) and snapshotted before anything is signalled: a
/// grandchild stays known even after its parent dies and it is re-parented. SIGTERM to every member, a short
/// grace, then SIGKILL to every member still alive (and any descendant started meanwhile).
/// </summary>
internal static partial class ProcessTree
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    public static async Task KillAsync(int rootPid, TimeSpan grace)
    {
        var members = Descendants(rootPid);
        members.Insert(0, rootPid);
        foreach (var pid in members) Kill(pid, SigTerm);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && AnyAlive(members)) await Task.Delay(20).ConfigureAwait(false);
        foreach (var pid in Descendants(rootPid))
            if (!members.Contains(pid)) members.Add(pid);
        foreach (var pid in members)
            if (IsAlive(pid)) Kill(pid, SigKill);
    }

    /// <summary>SIGKILL to every descendant of <paramref name="rootPid"/> (not to the root itself), without a grace.</summary>
    public static void KillDescendants(int rootPid)
    {
        foreach (var pid in Descendants(rootPid)) Kill(pid, SigKill);
    }

    /// <summary>Alive and not a zombie (a zombie is dead, only waiting for its parent to reap it).</summary>
    public static bool IsAlive(int pid)
    {
        var state = State(pid);
        return state is not null && state != 'Z' && state != 'X';
    }

    private static bool AnyAlive(List<int> pids)
    {
        foreach (var p in pids)
            if (IsAlive(p)) return true;
        return false;
    }

    public static List<int> Descendants(int root)
    {
        var parentOf = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            if (ReadStat(pid) is { } stat) parentOf[pid] = stat.Ppid;
        }
        var result = new List<int>();
        var frontier = new Queue<int>();
        frontier.Enqueue(root);
        while (frontier.Count > 0)
        {
            int p = frontier.Dequeue();
            foreach (var (child, parent) in parentOf)
                if (parent == p && !result.Contains(child)) { result.Add(child); frontier.Enqueue(child); }
        }
        return result;
    }

    private static char? State(int pid) => ReadStat(pid)?.State;

    private static (char State, int Ppid)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText("/proc/" + pid + "/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) S ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0 || close + 4 >= text.Length) return null;
        var rest = text.AsSpan(close + 2);
        char state = rest[0];
        rest = rest[2..];
        int space = rest.IndexOf(' ');
        if (space < 0 || !int.TryParse(rest[..space], out var ppid)) return null;
        return (state, ppid);
    }

    private static void Kill(int pid, int signal) => _ = SysKill(pid, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int sig);
}
