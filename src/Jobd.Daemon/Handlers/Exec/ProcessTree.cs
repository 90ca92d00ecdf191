using System;
using System.Collections.Generic;
using System.Globalization;
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
            if (!int.TryParse(Path.GetFileName(dir.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
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

    /// <summary>
    /// State and parent pid from /proc/PID/stat, read into a stack buffer: a kill polls this for every process on
    /// the machine several times, and a StreamReader per file made megabytes of garbage per kill.
    /// </summary>
    private static (char State, int Ppid)? ReadStat(int pid)
    {
        // "pid (comm) S ppid …": comm is at most 15 bytes but may hold spaces and parentheses, so parse after the
        // last ')'; nothing after it is anything but numbers, so the first 256 bytes always hold what is needed.
        Span<byte> buffer = stackalloc byte[256];
        int n;
        try
        {
            using var handle = File.OpenHandle("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
            n = RandomAccess.Read(handle, buffer, 0);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        var text = buffer[..n];
        int close = text.LastIndexOf((byte)')');
        if (close < 0 || close + 4 >= text.Length) return null;
        var rest = text[(close + 2)..];
        char state = (char)rest[0];
        rest = rest[2..];
        int space = rest.IndexOf((byte)' ');
        if (space < 0 || !int.TryParse(rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid)) return null;
        return (state, ppid);
    }

    private static void Kill(int pid, int signal) => _ = SysKill(pid, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int sig);
}
