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
/// `jobd enqueue --batch`: jobs as JSON lines on stdin, enqueued 500 per pipelined round trip, one id printed
/// per job in input order. A malformed line stops the batch after every job before it was enqueued, so the
/// printed ids are exactly the lines done; nothing after it is sent. A job Redis refuses (its id exists) prints
/// an empty line in its place, so ids stay aligned with input lines, and makes the exit code 65. With
/// JOBD_ENQUEUE_WAIT_REPLICAS each round trip is confirmed by WAIT; an unconfirmed one prints its ids, then
/// one line, and stops the batch with exit 69.
/// </summary>
internal sealed class EnqueueBatch
{
    private const int Chunk = 500;
    private readonly JobdConfig _config;
    private readonly TextReader _stdin;
    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;
    private readonly bool _json;
    private readonly List<EnqueueRequest> _pending = new(Chunk);
    private readonly List<int> _pendingLines = new(Chunk);
    private JobProducer? _producer;
    private RedisClient? _redis;
    private int _enqueued;
    private int _refused;

    public EnqueueBatch(JobdConfig config, TextReader stdin, TextWriter stdout, TextWriter stderr, bool json)
    {
        _config = config;
        _stdin = stdin;
        _stdout = stdout;
        _stderr = stderr;
        _json = json;
    }

    public async Task<int> RunAsync()
    {
        try
        {
            int lineNumber = 0;
            string? line;
            while ((line = await ReadLineAsync(lineNumber + 1).ConfigureAwait(false)) is not null)
            {
                lineNumber++;
                if (line.Trim().Length == 0) continue;
                EnqueueRequest request;
                try
                {
                    if (ReferenceEquals(line, InvalidUtf8)) throw new JobRejectedException("json", "the line is not valid UTF-8");
                    request = Parse(line.Trim());
                    EnqueueCheck.Validate(request, _config.MaxJobBytes);
                }
                catch (JobRejectedException e)
                {
                    await FlushAsync().ConfigureAwait(false);
                    _stderr.WriteLine($"jobd: enqueue refused line {lineNumber}: {e.Message}; the {_enqueued} job(s) before it were enqueued, nothing after it");
                    return ExitCodes.DataErr;
                }
                _pending.Add(request);
                _pendingLines.Add(lineNumber);
                if (_pending.Count == Chunk) await FlushAsync().ConfigureAwait(false);
            }
            await FlushAsync().ConfigureAwait(false);
            return _refused == 0 ? ExitCodes.Ok : ExitCodes.DataErr;
        }
        catch (NotReplicatedException e)
        {
            _stderr.WriteLine($"jobd: the last {e.Results.Count} line(s) printed are not confirmed: {e.Message} (JOBD_ENQUEUE_WAIT_REPLICAS); every id printed before them was; nothing after them was sent");
            return ExitCodes.Unavailable;
        }
        catch (RedisConnectionException e)
        {
            _stderr.WriteLine($"jobd: {e.Message}; {_enqueued} job(s) were enqueued before it (their ids are printed)");
            return ExitCodes.Unavailable;
        }
        catch (RedisServerException e)
        {
            _stderr.WriteLine($"jobd: redis refused the batch: {e.Message}; {_enqueued} job(s) were enqueued before it");
            return ExitCodes.Unavailable;
        }
        finally
        {
            _stdout.Flush();
            if (_redis is not null) await _redis.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stands for a line the strict decoder refused; compared by reference.</summary>
    private static readonly string InvalidUtf8 = new('\uFFFD', 1);

    private async Task<string?> ReadLineAsync(int lineNumber)
    {
        try
        {
            return await _stdin.ReadLineAsync().ConfigureAwait(false);
        }
        catch (DecoderFallbackException)
        {
            // The rest of that line is unreadable too: the batch stops here, as for any refused line.
            return InvalidUtf8;
        }
    }

    private static EnqueueRequest Parse(string line)
    {
        // The line's own keys follow the rules of args (a duplicate "type" would be read differently elsewhere).
        if (JsonArgs.Problem(Encoding.UTF8.GetBytes(line)) is { } problem) throw new JobRejectedException("json", problem);
        BatchLine? job;
        try
        {
            job = JsonSerializer.Deserialize(line, CliJsonContext.Default.BatchLine);
        }
        catch (JsonException e)
        {
            throw new JobRejectedException("json", $"malformed JSON or an unknown field at {e.Path ?? "$"} (byte {e.BytePositionInLine + 1})");
        }
        if (job is null) throw new JobRejectedException("json", "the line is null, not a job object");
        if (job.Type is null) throw new JobRejectedException("type", "missing");
        return EnqueueOptions.Build(job.Type, job.Args?.GetRawText(), job.Queue, job.In, job.At, job.Unique,
            job.MaxAttempts?.ToString(System.Globalization.CultureInfo.InvariantCulture), job.Timeout, job.Id);
    }

    private async Task FlushAsync()
    {
        if (_pending.Count == 0) return;
        if (_producer is null)
        {
            _redis = await OneShotRedis.ConnectAsync(_config.Redis).ConfigureAwait(false);
            _producer = new JobProducer(_redis, _config.Keys, _config.MaxJobBytes) { WaitForReplicas = _config.EnqueueWait };
        }
        IReadOnlyList<EnqueueResult> results;
        NotReplicatedException? unconfirmed = null;
        try
        {
            results = await _producer.EnqueueManyAsync(_pending).ConfigureAwait(false);
        }
        catch (NotReplicatedException e)
        {
            // The jobs exist on the primary: their ids are printed like any others, then the batch fails.
            unconfirmed = e;
            results = e.Results;
        }
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i].Refusal is { } refusal)
            {
                _refused++;
                _stdout.WriteLine();
                _stderr.WriteLine($"jobd: line {_pendingLines[i]}: redis refused the job: {refusal.Message}");
                continue;
            }
            _enqueued++;
            EnqueueVerb.WriteResult(_stdout, _stderr, results[i], _json, _pending[i].UniqueKey, _pendingLines[i]);
        }
        _pending.Clear();
        _pendingLines.Clear();
        await _stdout.FlushAsync().ConfigureAwait(false);
        if (unconfirmed is not null) throw unconfirmed;
    }
}
