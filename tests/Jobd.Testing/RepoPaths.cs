using System;
using System.IO;
using System.Reflection;

namespace Jobd.Testing;

/// <summary>The repository's root folder, recorded at build time (tests/Directory.Build.props).</summary>
public static class RepoPaths
{
    public static string Root { get; } = Find();

    public static string File(params string[] parts) => Path.Combine(Root, Path.Combine(parts));

    private static string Find()
    {
        foreach (var a in typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>())
            if (a.Key == "JobdRepoRoot" && a.Value is { Length: > 0 } root && System.IO.File.Exists(Path.Combine(root, "Daemon.sln")))
                return root;
        throw new InvalidOperationException("test fixture: the repository root was not recorded at build time");
    }
}
