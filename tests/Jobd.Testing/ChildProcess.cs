using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// A program run as its users run it: its own environment, its output lines announced as they arrive, signals
/// delivered with kill(2). Disposing kills it if it is still running, so no test leaves a process behind.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    public const int SIGKILL = 9, SIGTERM = 15, SIGINT = 2, SIGSTOP = 19, SIGCONT = 18;

    private readonly Process _process;
    public TestSignal<string> Stdout { get; } = new();
    public TestSignal<string> Stderr { get; } = new();
    public string Describe { get; }

    private ChildProcess(Process process, string describe)
    {
        _process = process;
        Describe = describe;
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <param name="environment">The whole environment (not added to the test runner's), so nothing leaks in.</param>
    public static ChildProcess Start(string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
        {
            psi.Environment.Clear();
            foreach (var kv in environment) psi.Environment[kv.Key] = kv.Value;
        }
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(p, fileName + " " + string.Join(' ', psi.ArgumentList));
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) child.Stdout.Announce(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) child.Stderr.Announce(e.Data); };
        if (!p.Start()) throw new InvalidOperationException("could not start " + child.Describe);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return child;
    }

    public System.IO.StreamWriter Stdin => _process.StandardInput;

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0 && !_process.HasExited)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>kill(2) to a process this class did not start (a grandchild, such as jobd under unshare).</summary>
    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for the exit and for the last output line to be read.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(timeout)).ConfigureAwait(false) != exited)
            throw new TimeoutException($"{Describe} still running after {timeout.TotalSeconds:0.#}s;\nstderr:\n  "
                                       + string.Join("\n  ", Stderr.Snapshot()));
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int sig);
}
