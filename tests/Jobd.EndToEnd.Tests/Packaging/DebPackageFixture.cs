using System;
using System.IO;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>
/// Builds the .deb once per test class with packaging/deb/build-deb.sh from the published binary (JOBD_BIN), in a
/// directory of its own that every test of the class may add to and that is removed afterwards.
/// </summary>
public sealed class DebPackageFixture : IAsyncLifetime
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "jobd-deb-" + Guid.NewGuid().ToString("N"));
    public string Deb { get; private set; } = "";
    public string Version { get; } = ProjectVersion();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Dir);
        var (code, stdout, stderr) = await Tool.Run("/usr/bin/env", "JOBD_BIN=" + JobdBinary.Path,
            RepoPaths.File("packaging", "deb", "build-deb.sh"), Dir);
        if (code != 0) throw new InvalidOperationException("build-deb.sh exited " + code + ": " + stderr);
        Deb = stdout.Trim();
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>A fresh directory under the fixture's for one test.</summary>
    public string NewDir(string name)
    {
        string d = Path.Combine(Dir, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static string ProjectVersion()
    {
        var props = File.ReadAllText(RepoPaths.File("Directory.Build.props"));
        int start = props.IndexOf("<Version>", StringComparison.Ordinal) + "<Version>".Length;
        return props.Substring(start, props.IndexOf("</Version>", start, StringComparison.Ordinal) - start);
    }
}
