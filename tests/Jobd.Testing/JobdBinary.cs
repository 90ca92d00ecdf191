using System;
using System.Collections.Generic;
using System.IO;

namespace Jobd.Testing;

/// <summary>
/// The published Native-AOT `jobd`, as users run it: JOBD_BIN, or artifacts/jobd/jobd under the repository
/// (`make publish` puts it there). A missing binary fails the test with the command that builds it.
/// </summary>
public static class JobdBinary
{
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("JOBD_BIN");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            if (!File.Exists(fromEnv)) throw new InvalidOperationException($"JOBD_BIN={fromEnv}: no such file; run `make publish`");
            return fromEnv;
        }
        var candidate = RepoPaths.File("artifacts", "jobd", "jobd");
        if (!File.Exists(candidate))
            throw new InvalidOperationException("the published jobd binary is missing (artifacts/jobd/jobd); run `make publish` or set JOBD_BIN");
        return candidate;
    }

    /// <summary>A minimal, explicit environment: nothing of the test runner's (no stray JOBD_*) leaks in.</summary>
    public static Dictionary<string, string> Env(params (string Key, string Value)[] vars)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = System.IO.Path.GetTempPath(),
        };
        foreach (var (k, v) in vars) env[k] = v;
        return env;
    }

    public static ChildProcess Start(IEnumerable<string> args, Dictionary<string, string> env) =>
        ChildProcess.Start(Path, args, env);
}
