// The commands a connection runs: single prepared commands, pipelines, blocking commands, PING, and the NOSCRIPT
// fallback for scripts called with EVALSHA. Server error replies are thrown as RedisServerException for a single
// command and left in the reply array for a pipeline (each command succeeds or fails on its own).
using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

public sealed partial class RedisConnection
{
    private static readonly PreparedCommand Ping = PreparedCommand.Create("PING");
    private readonly RedisReply[] _single = new RedisReply[1];
    private RedisBatch? _reload;

    /// <summary>PING; returns the PONG reply.</summary>
    public ValueTask<RedisReply> PingAsync(CancellationToken cancellationToken = default) => ExecuteAsync(Ping, cancellationToken);

    /// <summary>Sends a prepared frame and awaits its reply within CommandTimeout. Allocates nothing for integer, nil, OK or PONG replies.</summary>
    public ValueTask<RedisReply> ExecuteAsync(PreparedCommand command, CancellationToken cancellationToken = default) =>
        SingleAsync(command.Frame, null, Options.CommandTimeout, false, cancellationToken);

    /// <summary>Runs a batch holding exactly one command (EVALSHA included, with its NOSCRIPT fallback).</summary>
    public ValueTask<RedisReply> ExecuteAsync(RedisBatch command, CancellationToken cancellationToken = default) =>
        SingleAsync(Single(command).Written, command, Options.CommandTimeout, false, cancellationToken);

    /// <summary>
    /// A blocking command (BLMOVE, BLPOP, BZPOPMIN…) whose own timeout is <paramref name="blockTimeout"/>
    /// (<see cref="TimeSpan.Zero"/>: blocks forever). The reply deadline is blockTimeout + CommandTimeout. Use a
    /// connection of its own. On cancellation the connection is discarded, so the pending reply dies with it.
    /// </summary>
    public ValueTask<RedisReply> ExecuteBlockingAsync(PreparedCommand command, TimeSpan blockTimeout, CancellationToken cancellationToken = default) =>
        SingleAsync(command.Frame, null, BlockingDeadline(blockTimeout), true, cancellationToken);

    /// <inheritdoc cref="ExecuteBlockingAsync(PreparedCommand, TimeSpan, CancellationToken)"/>
    public ValueTask<RedisReply> ExecuteBlockingAsync(RedisBatch command, TimeSpan blockTimeout, CancellationToken cancellationToken = default) =>
        SingleAsync(Single(command).Written, command, BlockingDeadline(blockTimeout), true, cancellationToken);

    /// <summary>
    /// Sends every command of <paramref name="batch"/> in one write and reads one reply per command into
    /// <paramref name="replies"/> (error replies included, not thrown). Commands that answered NOSCRIPT are re-sent,
    /// once, after loading their scripts, so they run after the rest of the pipeline. The deadline is CommandTimeout
    /// per reply.
    /// </summary>
    public ValueTask ExecutePipelineAsync(RedisBatch batch, RedisReply[] replies, CancellationToken cancellationToken = default)
    {
        batch.EnsureComplete();
        if (replies.Length < batch.Count) throw new ArgumentException($"room for {batch.Count} replies is needed", nameof(replies));
        return RunAsync(batch.Written, batch.Count, batch, replies, Options.CommandTimeout, false, cancellationToken);
    }

    private TimeSpan BlockingDeadline(TimeSpan blockTimeout) =>
        blockTimeout <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : blockTimeout + Options.CommandTimeout;

    private static RedisBatch Single(RedisBatch batch)
    {
        batch.EnsureComplete();
        if (batch.Count != 1) throw new ArgumentException($"expected one command, the batch holds {batch.Count}", nameof(batch));
        return batch;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RedisReply> SingleAsync(ReadOnlyMemory<byte> frame, RedisBatch? batch, TimeSpan timeout, bool blocking,
        CancellationToken cancellationToken)
    {
        await RunAsync(frame, 1, batch, _single, timeout, blocking, cancellationToken).ConfigureAwait(false);
        var reply = _single[0];
        _single[0] = default;
        return reply.ThrowIfError();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunAsync(ReadOnlyMemory<byte> frame, int count, RedisBatch? batch, RedisReply[] replies,
        TimeSpan timeout, bool blocking, CancellationToken cancellationToken)
    {
        Enter();
        // A blocking wait holds no thread (it waits asynchronously) unless the caller owns one for it.
        _pollReplies = _plainTcp && (!blocking || Options.BlockOnCallingThread);
        _pollSliceMicros = (blocking ? BlockingPollSliceMilliseconds : ReplyPollSliceMilliseconds) * 1000;
        var registration = Watch(cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Arm(timeout);
            await WriteAsync(frame).ConfigureAwait(false);
            for (int i = 0; i < count; i++)
            {
                if (i > 0) Arm(timeout);
                replies[i] = await ReadAsync().ConfigureAwait(false);
            }
            if (batch is not null && HasNoScript(batch, replies)) await ReloadScriptsAsync(batch, replies, timeout).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw Failure(e, cancellationToken);
        }
        finally
        {
            Disarm();
            registration.Dispose();
            Exit();
        }
    }

    private static bool HasNoScript(RedisBatch batch, RedisReply[] replies)
    {
        for (int i = 0; i < batch.Count; i++)
            if (batch.EntryAt(i).Script is not null && IsNoScript(replies[i])) return true;
        return false;
    }

    private static bool IsNoScript(in RedisReply reply) => reply.Error is { } e && e.Is("NOSCRIPT");

    /// <summary>SCRIPT LOAD each missing script once, then re-send the same EVALSHA bytes, in one round trip.</summary>
    private async ValueTask ReloadScriptsAsync(RedisBatch batch, RedisReply[] replies, TimeSpan timeout)
    {
        var reload = (_reload ??= new RedisBatch()).Clear();
        int loads = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var script = batch.EntryAt(i).Script;
            if (script is null || !IsNoScript(replies[i]) || AlreadyLoading(batch, replies, i, script)) continue;
            reload.Add(script.Load);
            loads++;
        }
        for (int i = 0; i < batch.Count; i++)
        {
            ref readonly var entry = ref batch.EntryAt(i);
            if (entry.Script is not null && IsNoScript(replies[i]))
                reload.AddFrame(batch.WrittenSpan.Slice(entry.Start, entry.Length), entry.Script);
        }
        Arm(timeout);
        await WriteAsync(reload.Written).ConfigureAwait(false);
        for (int i = 0; i < loads; i++)
        {
            Arm(timeout);
            await ReadAsync().ConfigureAwait(false); // a failed load shows up as NOSCRIPT again in the retry below
        }
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.EntryAt(i).Script is null || !IsNoScript(replies[i])) continue;
            Arm(timeout);
            replies[i] = await ReadAsync().ConfigureAwait(false);
        }
    }

    private static bool AlreadyLoading(RedisBatch batch, RedisReply[] replies, int index, RedisScript script)
    {
        for (int j = 0; j < index; j++)
            if (ReferenceEquals(batch.EntryAt(j).Script, script) && IsNoScript(replies[j])) return true;
        return false;
    }
}
