using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace Jobd.Testing;

/// <summary>
/// A fact that mounts a small tmpfs (a disk that fills up on demand): it runs where this process may
/// `mount -t tmpfs` (root, and a kernel or sandbox that allows it), as CI does, and is reported as skipped with
/// the reason elsewhere, so a machine that cannot inject the fault never reads as a pass.
/// </summary>
public sealed class FactWhenTmpfsMountableAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(Probe);

    public FactWhenTmpfsMountableAttribute()
    {
        if (Reason.Value is { } why) Skip = why;
    }

    private static string? Probe()
    {
        var dir = Directory.CreateTempSubdirectory("jobd-tmpfs-probe-").FullName;
        try
        {
            if (Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir) is { } error)
                return "cannot mount a tmpfs here (needs root and mount permission): " + error;
            Run("umount", dir);
            return null;
        }
        finally
        {
            try { Directory.Delete(dir); }
            catch (IOException) { }
        }
    }

    private static string? Run(string program, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : (err.Trim().Length > 0 ? err.Trim() : program + " exited " + p.ExitCode);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return program + ": " + e.Message;
        }
    }
}
