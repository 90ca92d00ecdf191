// The bench's own redis-server and Postgres, separate processes on loopback, as users run jobd next to them.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Jobd.Bench;

internal sealed class Servers : IDisposable
{
    private readonly List<Process> _processes = new();
    private readonly List<string> _dirs = new();

    public int RedisPort { get; private set; }
    public int PgPort { get; private set; }
    public string RedisUrl => $"redis://127.0.0.1:{RedisPort}/0";
    public string DatabaseUrl => $"postgres://jobd@127.0.0.1:{PgPort}/postgres";

    public static Servers Start()
    {
        var s = new Servers();
        s.StartRedis();
        s.StartPostgres();
        return s;
    }

    private void StartRedis()
    {
        RedisPort = FreePort();
        var dir = Directory.CreateTempSubdirectory("jobd-bench-redis-").FullName;
        _dirs.Add(dir);
        var p = Spawn("redis-server", ["--port", RedisPort.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
            "--appendonly", "no", "--loglevel", "warning"], false);
        WaitTcp(RedisPort, "redis-server");
        _processes.Add(p);
    }

    private void StartPostgres()
    {
        string bin = FindPg();
        var dir = Directory.CreateTempSubdirectory("jobd-bench-pg-").FullName;
        _dirs.Add(dir);
        bool root = Environment.UserName == "root";
        if (root) Run("chown", ["postgres:postgres", dir], false);
        var data = Path.Combine(dir, "data");
        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "jobd", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], root);
        PgPort = FreePort();
        var p = Spawn(Path.Combine(bin, "postgres"), ["-D", data, "-p", PgPort.ToString(), "-k", dir, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"], root);
        _processes.Add(p);
        WaitTcp(PgPort, "postgres");
        Thread.Sleep(500); // accepting TCP precedes accepting logins by a moment
    }

    private static string FindPg()
    {
        if (File.Exists("/usr/local/bin/postgres")) return "/usr/local/bin";
        foreach (var d in Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [])
            if (File.Exists(Path.Combine(d, "bin", "postgres"))) return Path.Combine(d, "bin");
        throw new InvalidOperationException("postgres not found: install it with `apt-get install postgresql`");
    }

    private static Process Spawn(string file, string[] args, bool asPostgres)
    {
        var psi = asPostgres ? new ProcessStartInfo("setpriv") : new ProcessStartInfo(file);
        if (asPostgres) foreach (var a in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", file }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static void Run(string file, string[] args, bool asPostgres)
    {
        using var p = Spawn(file, args, asPostgres);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} exited {p.ExitCode}");
    }

    private static void WaitTcp(int port, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            try { using var c = new TcpClient("127.0.0.1", port); return; }
            catch (SocketException) { Thread.Sleep(50); }
        }
        throw new InvalidOperationException(what + " did not accept connections in 30 s");
    }

    public static void Signal(int pid, string signal)
    {
        using var k = Process.Start("kill", ["-" + signal, pid.ToString()]);
        k?.WaitForExit();
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) { Signal(p.Id, "TERM"); if (!p.WaitForExit(10_000)) p.Kill(); }
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var d in _dirs) try { Directory.Delete(d, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
