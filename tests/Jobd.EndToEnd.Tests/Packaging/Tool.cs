using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Testing;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>Runs a packaging tool (dpkg-deb, dpkg, sh, python3, the build script) to completion and keeps its output.</summary>
internal static class Tool
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>dpkg looks for ldconfig and start-stop-daemon, which live in sbin.</summary>
    public const string SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static Task<(int Code, string Out, string Err)> Run(string file, params string[] args) =>
        RunIn(JobdBinary.Env(("PATH", SystemPath)), file, args);

    /// <param name="env">The whole environment of the tool (nothing of the test runner's leaks in).</param>
    public static async Task<(int Code, string Out, string Err)> RunIn(Dictionary<string, string> env, string file, params string[] args)
    {
        await using var p = ChildProcess.Start(file, args, env);
        int code = await p.WaitForExitAsync(Limit);
        return (code, string.Join('\n', p.Stdout.Snapshot()), string.Join('\n', p.Stderr.Snapshot()));
    }

    /// <summary>Runs and requires exit 0, naming the command and its stderr otherwise.</summary>
    public static async Task<string> Ok(string file, params string[] args)
    {
        var (code, stdout, stderr) = await Run(file, args);
        if (code != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}:\n{stderr}\n{stdout}");
        return stdout;
    }

    public static IReadOnlyList<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
