using System;
using System.Buffers;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers.Http;
using Jobd.Handlers.Routes;
using Jobd.Queue;

namespace Jobd.Handlers.Exec;

/// <summary>
/// exec:PROGRAM ARGS… routes: runs the program directly (argv split at start-up, no shell) with the job envelope on
/// stdin and only the allowlisted environment. Exit 0: success, stdout is the result; 75: retry; else permanent,
/// with the tail of stderr. On timeout or forced shutdown the whole process tree is ended (<see cref="ProcessTree"/>);
/// so it is when stdout passes the flood cap (<see cref="RouteTable.ExecOutputCap"/>), and the job fails for good.
/// </summary>
public sealed class ExecRouteHandler : IJobHandler
{
    public const int RetryExitCode = 75;
    private const int StderrTailBytes = 2048;
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(1);

    private readonly string[] _argv;
    private readonly RouteTable _settings;
    private readonly List<KeyValuePair<string, string>> _environment = new();

    public ExecRouteHandler(Route route, RouteTable settings, IReadOnlyDictionary<string, string> jobdEnvironment)
    {
        _argv = route.Argv;
        _settings = settings;
        foreach (var name in settings.ExecEnv)
            if (jobdEnvironment.TryGetValue(name, out var value)) _environment.Add(new(name, value));
    }

    public async ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(_argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _settings.ExecDir ?? "",
        };
        for (int i = 1; i < _argv.Length; i++) psi.ArgumentList.Add(_argv[i]);
        psi.Environment.Clear();
        foreach (var (k, v) in _environment) psi.Environment[k] = v;
        psi.Environment["JOBD_JOB_ID"] = job.Id;
        psi.Environment["JOBD_JOB_TYPE"] = job.Type;
        psi.Environment["JOBD_JOB_ATTEMPT"] = job.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return JobOutcome.Fail("exec: cannot start " + _argv[0] + ": " + e.Message);
        }

        var stdout = new OutputCapture(process.StandardOutput.BaseStream, (int)_settings.MaxResultBytes, _settings.ExecOutputCap);
        var stderr = ReadTailAsync(process.StandardError.BaseStream, StderrTailBytes);
        var stdin = WriteStdinAsync(process.StandardInput.BaseStream, HttpEnvelope.Write(job));
        var pipes = Task.WhenAll(stdout.Completion, stderr, stdin);
        var exited = process.WaitForExitAsync(cancellationToken);
        try
        {
            if (await Task.WhenAny(exited, stdout.Flooded).ConfigureAwait(false) != exited)
            {
                // Writing without end (`yes`): more would only cost CPU until the timeout, and a retry floods again.
                await EndTreeAsync(process, pipes).ConfigureAwait(false);
                stdout.TakeResult();
                return TooLarge();
            }
            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await EndTreeAsync(process, pipes).ConfigureAwait(false);
            stdout.TakeResult();
            // The runner tells a timeout (retry) from a shutdown (the job goes back, attempt unspent).
            throw;
        }
        // A background process the program left running may hold its stdout, stderr or stdin open: the program's
        // outcome does not wait for it beyond a short grace.
        await WaitQuietlyAsync(pipes, OutputGrace, cancellationToken).ConfigureAwait(false);
        int code = process.ExitCode;
        var result = stdout.TakeResult();
        // Past the cap just as it exited: the same outcome as when the flood is seen first.
        if (stdout.Flooded.IsCompleted) return TooLarge();
        if (code == 0) return JobOutcome.Success(result);
        var errTail = stderr.IsCompletedSuccessfully ? stderr.Result : "";
        var error = "exec: exit " + code + (errTail.Length > 0 ? ": " + ResultText.Excerpt(errTail, StderrTailBytes) : "");
        return code == RetryExitCode ? JobOutcome.RetryLater(error) : JobOutcome.Fail(error);
    }

    private JobOutcome TooLarge() =>
        JobOutcome.Fail("exec: output_too_large (more than " + _settings.ExecOutputCap + " bytes on stdout)");

    /// <summary>
    /// Ends the program's tree and reaps the program (Process waits for it); the pipes close once the whole tree is
    /// gone, unless a process that left the tree holds them: they are not waited for beyond the grace.
    /// </summary>
    private static async Task EndTreeAsync(Process process, Task pipes)
    {
        await ProcessTree.KillAsync(process.Id, KillGrace).ConfigureAwait(false);
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        await WaitQuietlyAsync(pipes, KillGrace).ConfigureAwait(false);
    }

    private static async Task WaitQuietlyAsync(Task pipes, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        try
        {
            await pipes.WaitAsync(grace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        catch (IOException)
        {
        }
    }

    private static async Task WriteStdinAsync(Stream stdin, byte[] body)
    {
        try
        {
            await stdin.WriteAsync(body).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The program did not read its stdin: fine, the job JSON is also in no other place it needs.
        }
        finally
        {
            try { stdin.Dispose(); } catch (IOException) { }
        }
    }

    /// <summary>The last <paramref name="keep"/> bytes of the stream, as text.</summary>
    private static async Task<string> ReadTailAsync(Stream stream, int keep)
    {
        var ring = new byte[keep * 2];
        int length = 0;
        while (true)
        {
            if (length == ring.Length)
            {
                Buffer.BlockCopy(ring, keep, ring, 0, keep);
                length = keep;
            }
            int n = await stream.ReadAsync(ring.AsMemory(length)).ConfigureAwait(false);
            if (n == 0) break;
            length += n;
        }
        int start = Math.Max(0, length - keep);
        return Encoding.UTF8.GetString(ring, start, length - start);
    }
}
