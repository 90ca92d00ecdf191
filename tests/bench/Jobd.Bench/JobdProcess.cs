// One `jobd run` child with its own NOTIFY_SOCKET: start-up to READY, RSS from /proc, SIGTERM to stop.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Bench;

internal sealed class JobdProcess : IDisposable
{
    private readonly Process _process;
    private readonly Socket _notify;
    private readonly string _socketDir;
    private readonly long _startTicks;
    private readonly StringBuilder _stderr = new();

    private JobdProcess(Process process, Socket notify, string socketDir, long startTicks)
    {
        _process = process;
        _notify = notify;
        _socketDir = socketDir;
        _startTicks = startTicks;
    }

    public int Pid => _process.Id;

    public static JobdProcess Start(string binary, IReadOnlyDictionary<string, string> env)
    {
        var dir = Directory.CreateTempSubdirectory("jobd-bench-notify-").FullName;
        var path = Path.Combine(dir, "notify.sock");
        var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));
        var psi = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("run");
        psi.Environment.Remove("DATABASE_URL");
        psi.Environment.Remove("REDIS_URL");
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.Environment["NOTIFY_SOCKET"] = path;
        long t0 = Stopwatch.GetTimestamp();
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + binary);
        var jp = new JobdProcess(p, notify, dir, t0);
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (jp._stderr) if (jp._stderr.Length < 8192) jp._stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return jp;
    }

    /// <summary>Waits for READY=1 and returns the time from process start to it.</summary>
    public TimeSpan WaitReady(TimeSpan timeout)
    {
        var buf = new byte[4096];
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            long left = until - Stopwatch.GetTimestamp();
            if (left <= 0 || _process.HasExited)
                throw new InvalidOperationException("jobd did not report READY=1" + (_process.HasExited ? $" (exited {_process.ExitCode})" : "") + ":\n" + Stderr);
            if (!_notify.Poll((int)Math.Min(left * 1_000_000 / Stopwatch.Frequency, 200_000), SelectMode.SelectRead)) continue;
            int n = _notify.Receive(buf);
            long now = Stopwatch.GetTimestamp();
            foreach (var line in Encoding.UTF8.GetString(buf, 0, n).Split('\n'))
                if (line == "READY=1") return Stopwatch.GetElapsedTime(_startTicks, now);
        }
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>VmRSS and VmHWM in bytes.</summary>
    public (long Rss, long Hwm) Memory()
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadAllLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
        }
        return (rss, hwm);
    }

    private static long Kb(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;

    public void Stop()
    {
        if (_process.HasExited) return;
        Servers.Signal(_process.Id, "TERM");
        if (!_process.WaitForExit(15_000)) _process.Kill();
    }

    public void Dispose()
    {
        try { Stop(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _notify.Dispose();
        try { Directory.Delete(_socketDir, true); } catch (IOException) { }
    }
}
