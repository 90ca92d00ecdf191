using System;
using System.IO;

namespace Jobd.Testing;

/// <summary>Finds server programs; a missing one is a clear failure, never a skipped test.</summary>
public static class ServerBinaries
{
    public static string Find(string program, string installHint, params string[] extraDirs)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var dir in extraDirs)
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"test fixture: '{program}' not found on PATH{(extraDirs.Length > 0 ? " or in " + string.Join(", ", extraDirs) : "")}; {installHint}");
    }

    /// <summary>Debian keeps Postgres server programs off PATH in /usr/lib/postgresql/VERSION/bin; newest first.</summary>
    public static string[] PostgresDirs()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return Array.Empty<string>();
        var versions = Directory.GetDirectories(root);
        Array.Sort(versions, (a, b) => VersionOf(b).CompareTo(VersionOf(a)));
        for (int i = 0; i < versions.Length; i++) versions[i] = Path.Combine(versions[i], "bin");
        return versions;
    }

    private static int VersionOf(string dir) => int.TryParse(Path.GetFileName(dir), out var v) ? v : 0;
}
