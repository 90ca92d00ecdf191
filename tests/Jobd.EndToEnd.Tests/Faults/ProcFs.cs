using System;
using System.Globalization;
using System.IO;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>What the kernel says about a worker: its peak resident memory and the CPU time it used.</summary>
public static class ProcFs
{
    /// <summary>VmHWM: the most memory the process ever had resident, in bytes.</summary>
    public static long PeakRssBytes(int pid)
    {
        foreach (var line in File.ReadAllLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmHWM for pid " + pid);
    }

    /// <summary>utime + stime of /proc/PID/stat, in milliseconds (clock ticks of 10 ms on Linux).</summary>
    public static long CpuMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10;
    }
}
