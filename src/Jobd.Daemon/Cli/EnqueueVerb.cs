using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Queue;
using Jobd.Resp;

namespace Jobd.Cli;

/// <summary>
/// `jobd enqueue`: one job from the command line, or many from stdin with --batch (pipelined, 500 per round
/// trip). Refusals are one line each: exit 65 for a bad job (nothing of it is sent), 69 when Redis is
/// unavailable or refuses, or when JOBD_ENQUEUE_WAIT_REPLICAS replicas did not confirm the job in time (its id is
/// still printed: it exists on the primary), 64 for usage.
/// </summary>
public static class EnqueueVerb
{
    public static async Task<int> RunAsync(CommandLine cmd, JobdConfig config, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (cmd.Has("--batch"))
        {
            if (cmd.Positionals.Count > 0 || HasJobFlags(cmd))
            {
                stderr.WriteLine("jobd: --batch takes the jobs from stdin, not from arguments or flags; usage: " + Verb.Enqueue.UsageLine);
                return ExitCodes.Usage;
            }
            return await new EnqueueBatch(config, stdin, stdout, stderr, cmd.Has("--json")).RunAsync().ConfigureAwait(false);
        }
        if (cmd.Positionals.Count == 0)
        {
            stderr.WriteLine("jobd: enqueue needs a job TYPE; usage: " + Verb.Enqueue.UsageLine);
            return ExitCodes.Usage;
        }

        EnqueueRequest request;
        try
        {
            string? args = cmd.Positionals.Count > 1 ? cmd.Positionals[1] : null;
            // The runtime decodes argv with replacement: invalid UTF-8 arrives as U+FFFD, and would be stored changed.
            if (args is not null && args.Contains('\uFFFD'))
                throw new JobRejectedException("args", "holds U+FFFD, which invalid UTF-8 on the command line turns into; pass valid UTF-8, write it as \\ufffd, or use - to read stdin");
            if (args == "-") args = ReadLimited(stdin, config.MaxJobBytes);
            request = EnqueueOptions.Build(cmd.Positionals[0], args, cmd.Value("--queue"), cmd.Value("--in"), cmd.Value("--at"),
                cmd.Value("--unique"), cmd.Value("--max-attempts"), cmd.Value("--timeout"), id: null);
            EnqueueCheck.Validate(request, config.MaxJobBytes);
        }
        catch (JobRejectedException e)
        {
            stderr.WriteLine("jobd: enqueue refused: " + e.Message);
            return ExitCodes.DataErr;
        }

        try
        {
            await using var redis = await OneShotRedis.ConnectAsync(config.Redis).ConfigureAwait(false);
            var producer = new JobProducer(redis, config.Keys, config.MaxJobBytes) { WaitForReplicas = config.EnqueueWait };
            EnqueueResult result;
            try
            {
                result = await producer.EnqueueAsync(request).ConfigureAwait(false);
            }
            catch (NotReplicatedException e)
            {
                // The id exists on the primary: print it, so a retry can use it (or check on it), then fail.
                WriteResult(stdout, stderr, e.Results[0], cmd.Has("--json"), request.UniqueKey, line: 0);
                stderr.WriteLine($"jobd: job {e.Results[0].Id} not confirmed: {e.Message} (JOBD_ENQUEUE_WAIT_REPLICAS)");
                return ExitCodes.Unavailable;
            }
            WriteResult(stdout, stderr, result, cmd.Has("--json"), request.UniqueKey, line: 0);
            return ExitCodes.Ok;
        }
        catch (RedisConnectionException e)
        {
            stderr.WriteLine("jobd: " + e.Message);
            return ExitCodes.Unavailable;
        }
        catch (RedisServerException e)
        {
            stderr.WriteLine("jobd: redis refused the job: " + e.Message);
            return ExitCodes.Unavailable;
        }
    }

    internal static void WriteResult(TextWriter stdout, TextWriter stderr, EnqueueResult r, bool json, string? unique, int line)
    {
        if (json)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(96);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("id", r.Id);
                w.WriteString("state", r.State);
                w.WriteEndObject();
            }
            stdout.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
            return;
        }
        stdout.WriteLine(r.Id);
        if (r.Duplicate)
            stderr.WriteLine($"jobd: {(line > 0 ? "line " + line + ": " : "")}duplicate: job {r.Id} holds unique key {ValueText.Quote(unique ?? "")}; nothing enqueued");
    }

    private static bool HasJobFlags(CommandLine cmd)
    {
        foreach (var f in Verb.Enqueue.ValueFlags)
            if (cmd.Has(f)) return true;
        return false;
    }

    private static string ReadLimited(TextReader stdin, long maxBytes)
    {
        var buffer = new char[(int)Math.Min(maxBytes + 1, int.MaxValue / 2)];
        int total = 0, n;
        try
        {
            while (total < buffer.Length && (n = stdin.Read(buffer, total, buffer.Length - total)) > 0) total += n;
        }
        catch (DecoderFallbackException)
        {
            throw new JobRejectedException("args", "stdin is not valid UTF-8");
        }
        if (total > maxBytes)
            throw new JobRejectedException("args", $"stdin holds more than the limit of {maxBytes} bytes (JOBD_MAX_JOB_BYTES)");
        return new string(buffer, 0, total);
    }
}
