using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.Versioning;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>
/// The .deb that packaging/deb/build-deb.sh makes from the published binary, inspected as dpkg sees it (control
/// fields, conffiles, maintainer scripts, every file's mode and owner), installed, removed and purged by a real dpkg
/// in a throwaway root, and its maintainer scripts run against a recorded service manager.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DebPackageTests : IClassFixture<DebPackageFixture>
{
    private readonly DebPackageFixture _pkg;

    public DebPackageTests(DebPackageFixture pkg) => _pkg = pkg;

    private async Task<string> ControlDir()
    {
        string control = Path.Combine(_pkg.NewDir("control"), "DEBIAN");
        await Tool.Ok("dpkg-deb", "-e", _pkg.Deb, control);
        return control;
    }

    [Fact]
    public async Task Info_names_the_version_architecture_only_libc_and_the_control_members()
    {
        Assert.Equal(Path.Combine(_pkg.Dir, $"jobd_{_pkg.Version}_amd64.deb"), _pkg.Deb);
        Assert.Equal("jobd", (await Tool.Ok("dpkg-deb", "-f", _pkg.Deb, "Package")).Trim());
        Assert.Equal(_pkg.Version, (await Tool.Ok("dpkg-deb", "-f", _pkg.Deb, "Version")).Trim());
        Assert.Equal("amd64", (await Tool.Ok("dpkg-deb", "-f", _pkg.Deb, "Architecture")).Trim());
        string depends = (await Tool.Ok("dpkg-deb", "-f", _pkg.Deb, "Depends")).Trim();
        Assert.StartsWith("libc6 (>= ", depends);
        Assert.DoesNotContain(",", depends);
        Assert.True(int.Parse((await Tool.Ok("dpkg-deb", "-f", _pkg.Deb, "Installed-Size")).Trim()) > 1000,
            "Installed-Size must count the binary (KiB)");

        string info = await Tool.Ok("dpkg-deb", "--info", _pkg.Deb);
        foreach (var member in new[] { "control", "conffiles", "md5sums", "postinst", "prerm", "postrm" })
            Assert.Matches(@"\n\s+\d+ bytes,\s+\d+ lines\s+\*?\s+" + member + @"\b", info);
        Assert.Contains("Description: background-job worker for Redis queues", info);
    }

    [Fact]
    public async Task Files_have_their_modes_belong_to_root_and_none_is_world_writable_or_setuid()
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["./usr/bin/jobd"] = "-rwxr-xr-x",
            ["./lib/systemd/system/jobd.service"] = "-rw-r--r--",
            // DATABASE_URL's password may go here; systemd reads EnvironmentFile= as root.
            ["./etc/jobd/jobd.env"] = "-rw-r-----",
            ["./usr/share/doc/jobd/copyright"] = "-rw-r--r--",
            ["./usr/share/doc/jobd/README.md"] = "-rw-r--r--",
        };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Tool.Lines(await Tool.Ok("dpkg-deb", "-c", _pkg.Deb)))
        {
            // tar -tv: "-rw-r--r-- root/root 1234 2026-01-01 00:00 ./path"
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string mode = f[0], owner = f[1], path = f[^1];
            Assert.True(owner == "root/root", $"{path} is owned by {owner}");
            Assert.True(mode[8] != 'w', $"{path} is world-writable ({mode})");
            Assert.True(mode[3] != 's' && mode[6] != 's' && mode[3] != 'S' && mode[6] != 'S', $"{path} is setuid/setgid ({mode})");
            Assert.True(mode[0] is '-' or 'd', $"{path} is neither a file nor a directory ({mode})");
            if (expected.TryGetValue(path, out var want))
            {
                Assert.True(want == mode, $"{path}: mode {mode}, expected {want}");
                seen.Add(path);
            }
        }
        Assert.Equal(expected.Count, seen.Count);
    }

    /// <summary>A shell script without its comment lines (comments may tell the administrator what to run).</summary>
    private static string Code(string script)
    {
        var kept = new List<string>();
        foreach (var line in script.Split('\n'))
            if (!line.TrimStart().StartsWith('#')) kept.Add(line);
        return string.Join('\n', kept);
    }

    [Fact]
    public async Task Env_file_is_the_only_conffile_and_the_maintainer_scripts_are_sh_clean_and_create_nothing()
    {
        string control = await ControlDir();
        Assert.Equal(new[] { "/etc/jobd/jobd.env" }, Tool.Lines(File.ReadAllText(Path.Combine(control, "conffiles"))));
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
        {
            string path = Path.Combine(control, script);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                         | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(path));
            await Tool.Ok("sh", "-n", path);
            string text = File.ReadAllText(path);
            Assert.StartsWith("#!/bin/sh\n", text);
            Assert.Contains("\nset -e\n", text);
            string code = Code(text);
            // DynamicUser=yes: no account (let alone one with a login shell), no files, no permission changes.
            foreach (var forbidden in new[] { "useradd", "adduser", "usermod", "/bin/bash", "chmod", "chown", "mkdir",
                                              "install ", "touch", "777", ">/etc", "> /etc", "/var/lib/jobd" })
                Assert.True(!code.Contains(forbidden, StringComparison.Ordinal), $"{script} contains `{forbidden}`");
            // Installing enables and starts nothing; the administrator does once jobd.env is filled in.
            Assert.DoesNotContain(" enable", code);
            Assert.DoesNotContain(" start ", code);
        }
    }

    /// <summary>
    /// A copy of one maintainer script whose "is systemd running" test looks at <paramref name="systemdRun"/>
    /// instead of /run/systemd/system (this machine may or may not run systemd); every other line is the shipped one.
    /// </summary>
    private static string ScriptSeeing(string control, string script, string systemdRun, string dir)
    {
        string text = File.ReadAllText(Path.Combine(control, script));
        Assert.Contains("[ -d /run/systemd/system ]", text);
        string copy = Path.Combine(dir, script);
        File.WriteAllText(copy, text.Replace("[ -d /run/systemd/system ]", $"[ -d '{systemdRun}' ]", StringComparison.Ordinal));
        return copy;
    }

    private static async Task<int> RunScript(string copy, ServiceManagerRecorder recorder, params string[] args)
    {
        // PATH holds only the recorders: a script reaching for a real systemctl would fail instead of touching this host.
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = recorder.BinDir };
        var all = new List<string> { copy };
        all.AddRange(args);
        var (code, _, err) = await Tool.RunIn(env, "/bin/sh", all.ToArray());
        Assert.True(err.Length == 0, $"{copy} {string.Join(' ', args)} wrote to stderr: {err}");
        return code;
    }

    [Theory]
    [InlineData("deb-systemd-invoke systemctl", "deb-systemd-invoke stop jobd.service")]
    [InlineData("systemctl", "systemctl stop jobd.service")]
    [InlineData("", "")]
    public async Task Removal_stops_the_service_with_the_tool_that_is_present(string tools, string expected)
    {
        string control = await ControlDir();
        string dir = _pkg.NewDir("prerm");
        string systemdRun = Path.Combine(dir, "run-systemd-system");
        Directory.CreateDirectory(systemdRun);
        var recorder = new ServiceManagerRecorder(dir, tools.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        string prerm = ScriptSeeing(control, "prerm", systemdRun, dir);

        Assert.Equal(0, await RunScript(prerm, recorder, "remove"));
        Assert.Equal(expected.Length == 0 ? Array.Empty<string>() : new[] { expected }, recorder.Calls);

        // An upgrade leaves the old jobd running until postinst restarts it on the new binary.
        Assert.Equal(0, await RunScript(prerm, recorder, "upgrade", "0.0.9"));
        Assert.Equal(expected.Length == 0 ? Array.Empty<string>() : new[] { expected }, recorder.Calls);
    }

    [Fact]
    public async Task Without_a_running_systemd_no_script_calls_the_service_manager()
    {
        string control = await ControlDir();
        string dir = _pkg.NewDir("nosystemd");
        var recorder = new ServiceManagerRecorder(dir, "deb-systemd-invoke", "systemctl");
        string absent = Path.Combine(dir, "no-such-run-systemd-system");
        Assert.Equal(0, await RunScript(ScriptSeeing(control, "postinst", absent, dir), recorder, "configure", ""));
        Assert.Equal(0, await RunScript(ScriptSeeing(control, "prerm", absent, dir), recorder, "remove"));
        Assert.Equal(0, await RunScript(ScriptSeeing(control, "postrm", absent, dir), recorder, "purge"));
        Assert.Empty(recorder.Calls);
    }

    [Fact]
    public async Task Under_systemd_install_reloads_upgrade_restarts_a_running_jobd_and_purge_disables()
    {
        string control = await ControlDir();
        string dir = _pkg.NewDir("systemd");
        string systemdRun = Path.Combine(dir, "run-systemd-system");
        Directory.CreateDirectory(systemdRun);
        var recorder = new ServiceManagerRecorder(dir, "deb-systemd-invoke", "systemctl");
        string postinst = ScriptSeeing(control, "postinst", systemdRun, dir);

        Assert.Equal(0, await RunScript(postinst, recorder, "configure", ""));
        Assert.Equal(new[] { "systemctl --system daemon-reload" }, recorder.Calls);

        // The recorder answers `is-active` with 0: the running jobd is restarted onto the new binary.
        Assert.Equal(0, await RunScript(postinst, recorder, "configure", "0.0.9"));
        Assert.Equal(new[]
        {
            "systemctl --system daemon-reload",
            "systemctl --system daemon-reload", "systemctl is-active --quiet jobd.service", "systemctl try-restart jobd.service",
        }, recorder.Calls);

        Assert.Equal(0, await RunScript(ScriptSeeing(control, "postrm", systemdRun, dir), recorder, "purge"));
        Assert.Equal(new[] { "systemctl disable jobd.service", "systemctl --system daemon-reload" }, recorder.Calls[^2..]);
    }

    [Fact]
    public async Task Unpacked_into_a_throwaway_root_the_binary_runs_and_the_unit_and_env_are_the_shipped_ones()
    {
        string root = _pkg.NewDir("unpacked");
        await Tool.Ok("dpkg-deb", "-x", _pkg.Deb, root);
        Assert.Contains(_pkg.Version, await Tool.Ok(Path.Combine(root, "usr", "bin", "jobd"), "version"));
        Assert.Equal(File.ReadAllText(RepoPaths.File("systemd", "jobd.service")),
            File.ReadAllText(Path.Combine(root, "lib", "systemd", "system", "jobd.service")));
        Assert.Equal(File.ReadAllText(RepoPaths.File("systemd", "jobd.env.example")),
            File.ReadAllText(Path.Combine(root, "etc", "jobd", "jobd.env")));
        // The example file is a valid configuration as shipped: jobd's own check accepts it.
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path.Combine(root, "etc", "jobd", "jobd.env")))
            if (line.Length > 0 && line[0] != '#' && line.IndexOf('=') > 0)
                env[line[..line.IndexOf('=')]] = line[(line.IndexOf('=') + 1)..];
        Assert.Contains("REDIS_URL", env.Keys);
        var jobdEnv = JobdBinary.Env();
        foreach (var kv in env) jobdEnv[kv.Key] = kv.Value;
        var (code, _, err) = await Tool.RunIn(jobdEnv, Path.Combine(root, "usr", "bin", "jobd"), "config");
        Assert.True(code == 0, "jobd config rejected the shipped jobd.env: " + err);
    }

    /// <summary>
    /// A real dpkg install, removal and purge into an empty admin directory, running the maintainer scripts
    /// chrootless. dpkg sets DPKG_ROOT for them, so they leave every service alone: the recorders, first on PATH,
    /// see no call. libc6 is not in that empty database, hence --force-depends; as a user other than root dpkg
    /// cannot chown, hence --force-not-root and the owner check only under root (CI).
    /// </summary>
    [Fact]
    public async Task Dpkg_installs_removes_and_purges_it_in_a_throwaway_root_without_touching_services()
    {
        string dir = _pkg.NewDir("dpkg");
        string root = Path.Combine(dir, "root");
        foreach (var d in new[] { "var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log", "run/systemd/system" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        var recorder = new ServiceManagerRecorder(dir, "deb-systemd-invoke", "systemctl");
        var env = JobdBinary.Env(("PATH", recorder.BinDir + ":" + Tool.SystemPath));
        string status = Path.Combine(root, "var/lib/dpkg/status");
        async Task Dpkg(params string[] action)
        {
            var args = new List<string> { "--root=" + root, "--force-not-root", "--force-script-chrootless",
                "--force-depends", "--log=" + Path.Combine(root, "var/log/dpkg.log") };
            args.AddRange(action);
            var (code, stdout, stderr) = await Tool.RunIn(env, "dpkg", args.ToArray());
            Assert.True(code == 0, $"dpkg {string.Join(' ', action)} exited {code}:\n{stderr}\n{stdout}");
        }

        await Dpkg("-i", _pkg.Deb);
        Assert.Contains("Status: install ok installed", File.ReadAllText(status));
        string env_ = Path.Combine(root, "etc", "jobd", "jobd.env");
        string[] stat = (await Tool.Ok("stat", "-c", "%a %u %g", env_)).Trim().Split(' ');
        Assert.Equal("640", stat[0]);
        if (Environment.UserName == "root") Assert.Equal(new[] { "0", "0" }, stat[1..]);
        Assert.Equal("755", (await Tool.Ok("stat", "-c", "%a", Path.Combine(root, "usr", "bin", "jobd"))).Trim());
        Assert.Contains(_pkg.Version, await Tool.Ok(Path.Combine(root, "usr", "bin", "jobd"), "version"));
        Assert.Contains("/lib/systemd/system/jobd.service", await Tool.Ok("dpkg", "--root=" + root, "-L", "jobd"));
        // dpkg --verify checks every installed file against md5sums: nothing changed, nothing printed.
        Assert.Equal("", (await Tool.Ok("dpkg", "--root=" + root, "--verify", "jobd")).Trim());

        await Dpkg("-r", "jobd");
        Assert.False(File.Exists(Path.Combine(root, "usr", "bin", "jobd")));
        Assert.True(File.Exists(env_), "removal (not purge) must keep the administrator's jobd.env");
        Assert.Contains("Status: deinstall ok config-files", File.ReadAllText(status));

        await Dpkg("--purge", "jobd");
        Assert.False(File.Exists(env_), "purge left the conffile behind");
        Assert.DoesNotContain("Package: jobd", File.ReadAllText(status));
        Assert.Empty(recorder.Calls);
        string log = File.ReadAllText(Path.Combine(root, "var/log/dpkg.log"));
        Assert.Contains("status installed jobd:amd64 " + _pkg.Version, log);
        Assert.Contains("status not-installed jobd:amd64 <none>", log);
    }
}
