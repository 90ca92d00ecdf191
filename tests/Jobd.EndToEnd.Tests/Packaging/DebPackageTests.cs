using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>
/// Builds the .deb with packaging/deb/build-deb.sh from the published binary and inspects it as dpkg would:
/// control fields, conffiles, maintainer scripts, every file's mode and owner, then unpacks it into a throwaway
/// root and runs the installed binary. dpkg-deb is in Debian's base `dpkg` package.
/// </summary>
public sealed class DebPackageTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "jobd-deb-" + Guid.NewGuid().ToString("N"));
    private string _deb = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var (code, stdout, stderr) = await Tool.Run("/usr/bin/env", "JOBD_BIN=" + JobdBinary.Path,
            RepoPaths.File("packaging", "deb", "build-deb.sh"), _dir);
        Assert.True(code == 0, "build-deb.sh failed: " + stderr);
        _deb = stdout.Trim();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private static string ProjectVersion()
    {
        var props = File.ReadAllText(RepoPaths.File("Directory.Build.props"));
        int start = props.IndexOf("<Version>", StringComparison.Ordinal) + "<Version>".Length;
        return props.Substring(start, props.IndexOf("</Version>", start, StringComparison.Ordinal) - start);
    }

    [Fact]
    public async Task Control_fields_name_the_version_architecture_and_only_libc()
    {
        string version = ProjectVersion();
        Assert.Equal(Path.Combine(_dir, $"jobd_{version}_amd64.deb"), _deb);
        Assert.Equal("jobd", (await Tool.Ok("dpkg-deb", "-f", _deb, "Package")).Trim());
        Assert.Equal(version, (await Tool.Ok("dpkg-deb", "-f", _deb, "Version")).Trim());
        Assert.Equal("amd64", (await Tool.Ok("dpkg-deb", "-f", _deb, "Architecture")).Trim());
        Assert.StartsWith("libc6", (await Tool.Ok("dpkg-deb", "-f", _deb, "Depends")).Trim());
        Assert.DoesNotContain(",", await Tool.Ok("dpkg-deb", "-f", _deb, "Depends"));
    }

    [Fact]
    public async Task Files_have_their_modes_and_belong_to_root()
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["./usr/bin/jobd"] = "-rwxr-xr-x",
            ["./lib/systemd/system/jobd.service"] = "-rw-r--r--",
            ["./etc/jobd/jobd.env"] = "-rw-r-----",
            ["./usr/share/doc/jobd/copyright"] = "-rw-r--r--",
            ["./usr/share/doc/jobd/README.md"] = "-rw-r--r--",
        };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Tool.Lines(await Tool.Ok("dpkg-deb", "-c", _deb)))
        {
            // tar -tv: "-rw-r--r-- root/root 1234 2026-01-01 00:00 ./path"
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string mode = f[0], owner = f[1], path = f[^1];
            Assert.True(owner == "root/root", $"{path} is owned by {owner}");
            Assert.True(mode[8] != 'w', $"{path} is world-writable ({mode})");
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
    public async Task Env_file_is_a_conffile_and_maintainer_scripts_are_sound_shell()
    {
        string control = Path.Combine(_dir, "control");
        await Tool.Ok("dpkg-deb", "-e", _deb, control);
        Assert.Equal(new[] { "/etc/jobd/jobd.env" }, Tool.Lines(File.ReadAllText(Path.Combine(control, "conffiles"))));
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
        {
            string path = Path.Combine(control, script);
            await Tool.Ok("sh", "-n", path);
            string text = File.ReadAllText(path);
            string code = Code(text);
            Assert.StartsWith("#!/bin/sh", text);
            Assert.DoesNotContain("777", code);
            Assert.DoesNotContain("useradd", code);
            // Every systemctl call is guarded: no systemd running (a chroot, a container, an install into
            // another root with dpkg --root, which sets DPKG_ROOT) means nothing to do.
            if (code.Contains("systemctl", StringComparison.Ordinal))
                Assert.Contains("[ -d \"$DPKG_ROOT/run/systemd/system\" ]", code);
            // Installing enables and starts nothing; the administrator does once jobd.env is filled in.
            Assert.DoesNotContain(" enable", code);
            Assert.DoesNotContain(" start ", code);
        }
        Assert.Contains("stop jobd.service", Code(File.ReadAllText(Path.Combine(control, "prerm"))));
        Assert.Contains("daemon-reload", File.ReadAllText(Path.Combine(control, "postinst")));
        Assert.Contains("daemon-reload", File.ReadAllText(Path.Combine(control, "postrm")));
    }

    [Fact]
    public async Task Unpacked_into_a_throwaway_root_the_binary_runs_and_the_unit_is_the_hardened_one()
    {
        string root = Path.Combine(_dir, "root");
        await Tool.Ok("dpkg-deb", "-x", _deb, root);
        string version = await Tool.Ok(Path.Combine(root, "usr", "bin", "jobd"), "version");
        Assert.Contains(ProjectVersion(), version);

        string unit = File.ReadAllText(Path.Combine(root, "lib", "systemd", "system", "jobd.service"));
        Assert.Equal(File.ReadAllText(RepoPaths.File("systemd", "jobd.service")), unit);
        foreach (var line in new[] { "Type=notify", "ExecStart=/usr/bin/jobd run", "EnvironmentFile=/etc/jobd/jobd.env", "DynamicUser=yes" })
            Assert.Contains(line + "\n", unit);
        Assert.Equal(File.ReadAllText(RepoPaths.File("systemd", "jobd.env.example")),
            File.ReadAllText(Path.Combine(root, "etc", "jobd", "jobd.env")));
    }

    /// <summary>
    /// A real dpkg install and purge into an empty admin directory, running the maintainer scripts (chrootless,
    /// with DPKG_ROOT set, so their systemd guard keeps them off this machine's systemd). libc6 is not in that
    /// empty database, hence --force-depends.
    /// </summary>
    [Fact]
    public async Task Dpkg_installs_configures_and_purges_it_in_a_throwaway_root()
    {
        string root = Path.Combine(_dir, "dpkgroot");
        foreach (var d in new[] { "var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        string[] Dpkg(params string[] action)
        {
            var args = new List<string> { "--root=" + root, "--force-not-root", "--force-script-chrootless",
                "--force-depends", "--log=" + Path.Combine(root, "var/log/dpkg.log") };
            args.AddRange(action);
            return args.ToArray();
        }

        await Tool.Ok("dpkg", Dpkg("-i", _deb));
        Assert.Contains("Status: install ok installed", File.ReadAllText(Path.Combine(root, "var/lib/dpkg/status")));
        string env = Path.Combine(root, "etc", "jobd", "jobd.env");
        Assert.True(File.Exists(env), "the conffile /etc/jobd/jobd.env was not installed");
        // Owner as dpkg sets it when run as root (CI); as another user dpkg cannot chown, so only the mode is checked.
        string[] stat = (await Tool.Ok("stat", "-c", "%a %u", env)).Trim().Split(' ');
        Assert.Equal("640", stat[0]);
        if (Environment.UserName == "root") Assert.Equal("0", stat[1]);
        Assert.Contains(ProjectVersion(), await Tool.Ok(Path.Combine(root, "usr", "bin", "jobd"), "version"));

        await Tool.Ok("dpkg", Dpkg("--purge", "jobd"));
        Assert.False(File.Exists(Path.Combine(root, "usr", "bin", "jobd")));
        Assert.False(File.Exists(env), "purge left the conffile behind");
        Assert.DoesNotContain("Package: jobd", File.ReadAllText(Path.Combine(root, "var/lib/dpkg/status")));
    }
}
