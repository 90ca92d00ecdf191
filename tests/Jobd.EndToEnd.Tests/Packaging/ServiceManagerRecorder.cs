using System;
using System.IO;
using System.Runtime.Versioning;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>
/// Stand-ins for systemctl and deb-systemd-invoke that only write their arguments to a log: a maintainer script run
/// by a test must never reach this machine's service manager, and the log shows what the script asked of it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ServiceManagerRecorder
{
    public string BinDir { get; }
    private readonly string _log;

    public ServiceManagerRecorder(string dir, params string[] tools)
    {
        BinDir = Path.Combine(dir, "bin");
        Directory.CreateDirectory(BinDir);
        _log = Path.Combine(dir, "calls.log");
        File.WriteAllText(_log, "");
        foreach (var tool in tools)
        {
            string stub = Path.Combine(BinDir, tool);
            File.WriteAllText(stub, $"#!/bin/sh\necho \"{tool} $*\" >> '{_log}'\nexit 0\n");
            File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite
                                       | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }
    }

    public string[] Calls => File.ReadAllLines(_log);
}
