using System;
using System.IO;

namespace Jobd.Ops;

/// <summary>Resident memory from /proc/self/statm (pages; the second field), without Process' heavier reads.</summary>
public static class ProcessMemory
{
    public static long ResidentBytes()
    {
        try
        {
            var text = File.ReadAllText("/proc/self/statm");
            int first = text.IndexOf(' ');
            if (first < 0) return Environment.WorkingSet;
            int second = text.IndexOf(' ', first + 1);
            var field = second < 0 ? text.AsSpan(first + 1) : text.AsSpan(first + 1, second - first - 1);
            return long.TryParse(field, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pages)
                ? pages * Environment.SystemPageSize
                : Environment.WorkingSet;
        }
        catch (IOException)
        {
            return Environment.WorkingSet;
        }
    }
}
