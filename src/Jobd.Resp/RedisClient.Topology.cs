// Where RedisClient connects, and what it does when a server says "not here". Three topologies:
// 1. one server: REDIS_URL's host; 2. Redis Cluster: the node of a MOVED reply becomes the target until a connection
// to it fails (then the URL's node again, which redirects anew), an ASK reply is answered with ASKING + the command,
// once, on a connection of its own; 3. Sentinel: the primary the sentinels name, verified with ROLE, resolved again
// on every reconnect. READONLY or UNBLOCKED (a demoted primary, or a replica named in REDIS_URL) is an outage: the connection is
// dropped and RedisConnectionException thrown, so callers never count it as a job failure and the next call
// reconnects (through the sentinels when configured). A refused command never ran, so following MOVED or ASK runs it
// at most once. None of this touches the steady state: it runs only on error replies and at connect.
using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

public sealed partial class RedisClient
{
    /// <summary>Reconnect backoff cap with Sentinel, so a promoted replica is found within a second of its promotion.</summary>
    internal static readonly TimeSpan SentinelBackoffMax = TimeSpan.FromMilliseconds(200);

    private static readonly PreparedCommand Asking = PreparedCommand.Create("ASKING");
    private static readonly PreparedCommand Role = PreparedCommand.Create("ROLE");
    private RedisEndpoint? _movedTo;
    /// <summary>READONLY or UNBLOCKED seen and no primary confirmed since: reconnects check ROLE first.</summary>
    private int _demotions;

    /// <summary>Test signal: every MOVED or ASK followed (the refused reply's text).</summary>
    internal Action<string>? Redirected { get; set; }

    /// <summary>Where the live connection goes: the URL's node, the node a MOVED named, or the sentinels' primary.</summary>
    private async Task<RedisConnection> ConnectTargetAsync(CancellationToken cancellationToken)
    {
        if (Options.UsesSentinel) return await SentinelDiscovery.ConnectMasterAsync(Options, cancellationToken).ConfigureAwait(false);
        if (_movedTo is not { } moved)
        {
            var connection = await RedisConnection.ConnectAsync(Options, cancellationToken).ConfigureAwait(false);
            if (_demotions > 0) await RequirePrimaryAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        try
        {
            return await RedisConnection.ConnectAsync(At(moved), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisServerException)
        {
            _movedTo = null; // the next attempt asks the URL's node, which names the slot's owner now
            throw;
        }
    }

    /// <summary>
    /// After a demotion, a REDIS_URL naming a replica would connect at once and be refused again: a reconnect loop
    /// logging down/up thousands of times a second. A replica is a failed connect instead (backoff, no "up").
    /// An ACL without ROLE cannot tell: the connection is taken, and OutageAsync's delay bounds the loop.
    /// </summary>
    private async Task RequirePrimaryAsync(RedisConnection connection, CancellationToken cancellationToken)
    {
        string? role;
        try
        {
            var reply = await connection.ExecuteAsync(Role, cancellationToken).ConfigureAwait(false);
            role = reply.Items is { Length: > 0 } items ? items[0].AsString() : null;
        }
        catch (RedisServerException)
        {
            return;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (string.Equals(role, "master", StringComparison.Ordinal))
        {
            _demotions = 0;
            return;
        }
        await connection.DisposeAsync().ConfigureAwait(false);
        throw new RedisConnectionException($"{Options.Host}:{Options.Port} is still a replica (ROLE {role ?? "unknown"}); waiting for a primary");
    }

    private RedisOptions At(RedisEndpoint endpoint) =>
        Options with { Host = endpoint.Host, Port = endpoint.Port, Sentinels = null, SentinelMaster = null };

    private string TargetNote(RedisConnection connection) =>
        Options.UsesSentinel || _movedTo is not null ? " (serving: " + connection.Options.Host + ":" + connection.Options.Port + ")" : "";

    /// <summary>Follows MOVED or ASK for one command, or turns READONLY into an outage.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RedisReply> FollowAsync<TState>(RedisConnection connection, RedisServerException refusal,
        Func<RedisConnection, TState, CancellationToken, ValueTask<RedisReply>> run, TState state, CancellationToken cancellationToken)
    {
        if (ClusterRedirect.IsDemotion(refusal)) throw await OutageAsync(connection, refusal).ConfigureAwait(false);
        if (!ClusterRedirect.TryParseTarget(refusal, connection.Options.Host, out _, out var target)) throw refusal;
        Redirected?.Invoke(refusal.Message);
        if (refusal.Is("ASK"))
        {
            await using var asked = await RedisConnection.ConnectAsync(At(target), cancellationToken).ConfigureAwait(false);
            await asked.ExecuteAsync(Asking, cancellationToken).ConfigureAwait(false);
            return await run(asked, state, cancellationToken).ConfigureAwait(false);
        }
        var moved = await MoveAsync(connection, refusal, target, cancellationToken).ConfigureAwait(false);
        try
        {
            return await run(moved, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or OperationCanceledException)
        {
            await Drop(moved, e).ConfigureAwait(false);
            throw;
        }
    }

    private static bool HasTopologyReply(RedisReply[] replies, int count)
    {
        for (int i = 0; i < count; i++)
            if (replies[i].IsError && ClusterRedirect.IsTopologyReply(replies[i].Error!)) return true;
        return false;
    }

    /// <summary>Re-sends, once, the commands of a pipeline that MOVED or ASK refused; READONLY anywhere is an outage.</summary>
    private async ValueTask FollowPipelineAsync(RedisConnection connection, RedisBatch batch, RedisReply[] replies, CancellationToken cancellationToken)
    {
        if ((FirstRefusal(batch, replies, "READONLY") ?? FirstRefusal(batch, replies, "UNBLOCKED")) is { } demoted)
            throw await OutageAsync(connection, demoted).ConfigureAwait(false);
        if (FirstRefusal(batch, replies, "MOVED") is { } movedReply
            && ClusterRedirect.TryParseTarget(movedReply, connection.Options.Host, out _, out var movedTarget))
        {
            Redirected?.Invoke(movedReply.Message);
            connection = await MoveAsync(connection, movedReply, movedTarget, cancellationToken).ConfigureAwait(false);
            try
            {
                await ResendAsync(connection, batch, replies, "MOVED", asking: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisConnectionException or OperationCanceledException)
            {
                await Drop(connection, e).ConfigureAwait(false);
                throw;
            }
        }
        if (FirstRefusal(batch, replies, "ASK") is { } askReply
            && ClusterRedirect.TryParseTarget(askReply, connection.Options.Host, out _, out var askTarget))
        {
            Redirected?.Invoke(askReply.Message);
            await using var asked = await RedisConnection.ConnectAsync(At(askTarget), cancellationToken).ConfigureAwait(false);
            await ResendAsync(asked, batch, replies, "ASK", asking: true, cancellationToken).ConfigureAwait(false);
        }
    }

    private static RedisServerException? FirstRefusal(RedisBatch batch, RedisReply[] replies, string prefix)
    {
        for (int i = 0; i < batch.Count; i++)
            if (replies[i].Error is { } e && e.Is(prefix)) return e;
        return null;
    }

    /// <summary>Sends the same bytes of each command refused with <paramref name="prefix"/> and puts the new replies in place.</summary>
    private static async ValueTask ResendAsync(RedisConnection connection, RedisBatch batch, RedisReply[] replies, string prefix,
        bool asking, CancellationToken cancellationToken)
    {
        using var resend = new RedisBatch();
        for (int i = 0; i < batch.Count; i++)
        {
            if (replies[i].Error is not { } e || !e.Is(prefix)) continue;
            if (asking) resend.Add(Asking);
            ref readonly var entry = ref batch.EntryAt(i);
            resend.AddFrame(batch.WrittenSpan.Slice(entry.Start, entry.Length), entry.Script);
        }
        var answers = new RedisReply[resend.Count];
        await connection.ExecutePipelineAsync(resend, answers, cancellationToken).ConfigureAwait(false);
        int k = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (replies[i].Error is not { } e || !e.Is(prefix)) continue;
            if (asking) k++; // ASKING's OK
            replies[i] = answers[k++];
        }
    }

    /// <summary>Makes the node of a MOVED reply the target and connects there (backing off like any reconnect).</summary>
    private async ValueTask<RedisConnection> MoveAsync(RedisConnection connection, RedisServerException refusal, RedisEndpoint target,
        CancellationToken cancellationToken)
    {
        _movedTo = target;
        await Drop(connection, refusal).ConfigureAwait(false); // a server error: not reported as an outage
        return await ConnectAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>READONLY or UNBLOCKED: the server is a replica now. Drop the connection, report the outage, and hand back what to throw.</summary>
    private async ValueTask<RedisConnectionException> OutageAsync(RedisConnection connection, RedisServerException refusal)
    {
        var outage = new RedisConnectionException(
            $"{connection.Options.Host}:{connection.Options.Port} answered {refusal.Prefix}: it is a replica now (a failover?); reconnecting", refusal);
        await Drop(connection, outage).ConfigureAwait(false);
        // Bounds the loop when ROLE cannot be checked; the caller's command was refused anyway.
        if (_demotions++ > 0)
        {
            var backoff = Backoff(_demotions);
            Reconnecting?.Invoke(backoff);
            await Task.Delay(backoff, _time).ConfigureAwait(false);
        }
        return outage;
    }
}
