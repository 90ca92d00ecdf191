using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace Jobd.Testing;

/// <summary>
/// A small tmpfs mounted on a fresh folder (a disk that fills up on demand); unmounted and removed on dispose.
/// Mounting needs root (or CAP_SYS_ADMIN): <see cref="FactWhenTmpfsMountsAttribute"/> skips where it is refused.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    public string Path { get; }

    private TmpfsMount(string path) => Path = path;

    /// <summary>Mounts one of <paramref name="size"/> ("1m", "64k"); null with the reason when mount is refused.</summary>
    public static TmpfsMount? TryMount(string size, out string? refusal)
    {
        var dir = Directory.CreateTempSubdirectory("jobd-tmpfs-").FullName;
        var (code, output) = Run("/usr/bin/mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir);
        if (code == 0)
        {
            refusal = null;
            return new TmpfsMount(dir);
        }
        Directory.Delete(dir);
        refusal = $"cannot mount a tmpfs here (mount exit {code}: {output.Trim()}); it needs root or CAP_SYS_ADMIN";
        return null;
    }

    /// <summary>Writes a file until the disk is full; returns its path (delete it to free the space).</summary>
    public string Fill()
    {
        var file = System.IO.Path.Combine(Path, "fill");
        var chunk = new byte[4096];
        using var s = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1);
        try
        {
            while (true) s.Write(chunk);
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }
        return file;
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    public void Dispose()
    {
        Run("/usr/bin/umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>A fact that needs to mount a tmpfs: reported as skipped, with the reason, where mount is refused.</summary>
public sealed class FactWhenTmpfsMountsAttribute : FactAttribute
{
    private static readonly Lazy<string?> Refusal = new(() =>
    {
        using var probe = TmpfsMount.TryMount("64k", out var refusal);
        return refusal;
    });

    public FactWhenTmpfsMountsAttribute()
    {
        if (Refusal.Value is { } reason) Skip = reason;
    }
}
