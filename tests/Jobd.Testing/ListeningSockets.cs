using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Jobd.Testing;

/// <summary>
/// The TCP ports a process listens on, from its own file descriptors: each socket fd's inode, looked up among the
/// LISTEN entries (state 0A) of /proc/PID/net/tcp and tcp6. Whether a process has a listener, not merely the host.
/// </summary>
public static class ListeningSockets
{
    public static List<int> PortsOf(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string? target;
            try { target = new FileInfo(fd).LinkTarget; }
            catch (IOException) { continue; }
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
        }
        var ports = new List<int>();
        foreach (var table in new[] { $"/proc/{pid}/net/tcp", $"/proc/{pid}/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadAllLines(table)[1..])
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "0A" || !inodes.Contains(f[9])) continue;
                var local = f[1];
                ports.Add(int.Parse(local[(local.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }
}
