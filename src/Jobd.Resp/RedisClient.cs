// A connection that heals itself. Duties: 1. hand out a live RedisConnection, reconnecting with exponential backoff
// and full jitter (ReconnectBackoffMin..Max) until it succeeds or the caller cancels; 2. report each change of
// state (Up, Down) exactly once through the callback, never once per attempt, with a one-line reason free of secrets;
// 3. drop a connection as soon as a command on it fails with RedisConnectionException, and rethrow that exception:
// the caller decides whether to retry (the command may have run). It never retries a command by itself.
// Topology (RedisClient.Topology.cs): follows MOVED/ASK of Redis Cluster, resolves the primary through Sentinel and
// treats READONLY as an outage.
// Thread-safety: NOT thread-safe; one caller at a time (the daemon gives each loop a client of its own).
using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

/// <summary>
/// A reconnecting client over one <see cref="RedisConnection"/> at a time. NOT thread-safe: one caller at a time;
/// give each loop (the blocking fetch, the control tick) a client of its own. Commands are never retried here:
/// a <see cref="RedisConnectionException"/> reaches the caller, and the next call reconnects.
/// </summary>
public sealed partial class RedisClient : IAsyncDisposable
{
    private readonly Action<RedisConnectionState, string>? _stateChanged;
    private readonly TimeProvider _time;
    private readonly object _stateGate = new();
    private RedisConnection? _connection;
    private RedisConnectionState? _state;
    private bool _disposed;

    /// <param name="stateChanged">Called once per change of state; must not throw or block.</param>
    /// <param name="time">The clock for backoff delays (tests pass a manual one).</param>
    public RedisClient(RedisOptions options, Action<RedisConnectionState, string>? stateChanged = null, TimeProvider? time = null)
    {
        Options = options;
        _stateChanged = stateChanged;
        _time = time ?? TimeProvider.System;
    }

    public RedisOptions Options { get; }

    /// <summary>
    /// True: until the first connection succeeds, a server that refuses this client (WRONGPASS, NOAUTH, NOPERM) ends
    /// the connect with that <see cref="RedisServerException"/> instead of being retried: at start-up a wrong
    /// password or a missing permission is a configuration error. Once connected, the same refusal (a password
    /// rotated mid-run) is an outage like any other, retried with backoff.
    /// </summary>
    public bool RefusalEndsFirstConnect { get; init; }

    /// <summary>
    /// Called (instead of a second Down report) when, during an outage, the server starts refusing the client for a
    /// new reason (WRONGPASS after a password rotation, say): the cause an operator must act on, said once per cause.
    /// </summary>
    public Action<string>? DownCauseChanged { get; init; }

    private static readonly string[] Refusals = { "WRONGPASS", "NOAUTH", "NOPERM" };
    private bool _everUp;
    private string? _downCause;

    /// <summary>Test signal: every failed connection attempt (the state callback only hears the first).</summary>
    internal Action<string>? AttemptFailed { get; set; }

    /// <summary>
    /// Called on the caller's flow before each connection attempt with the longest that attempt plus the backoff
    /// after it can take: the next attempt, or the connection, comes within that time. An owner that must prove it
    /// is alive (jobd's watchdog) renews its deadline with it, so a reconnect that keeps trying counts as progress
    /// and one that hangs does not. Must not throw or block.
    /// </summary>
    public Action<TimeSpan>? Reconnecting { get; init; }

    /// <summary>
    /// The connection the last command used, or null; never a new one. For commands that must run on the same
    /// connection as the one before (WAIT counts only its own connection's writes).
    /// </summary>
    public RedisConnection? Current => _connection;

    /// <summary>The last state reported; null before the first connection attempt ended.</summary>
    public RedisConnectionState? State => _state;

    /// <summary>The live connection, or a new one after as many attempts as it takes (cancel to give up).</summary>
    public ValueTask<RedisConnection> ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var current = _connection;
        return current is not null && !current.IsBroken ? new ValueTask<RedisConnection>(current) : ReconnectAsync(cancellationToken);
    }

    public ValueTask<RedisReply> PingAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (c, _, ct) => c.PingAsync(ct), (object?)null, cancellationToken);

    public ValueTask<RedisReply> ExecuteAsync(PreparedCommand command, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (c, cmd, ct) => c.ExecuteAsync(cmd, ct), command, cancellationToken);

    public ValueTask<RedisReply> ExecuteAsync(RedisBatch command, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (c, cmd, ct) => c.ExecuteAsync(cmd, ct), command, cancellationToken);

    /// <inheritdoc cref="RedisConnection.ExecuteBlockingAsync(PreparedCommand, TimeSpan, CancellationToken)"/>
    public ValueTask<RedisReply> ExecuteBlockingAsync(PreparedCommand command, TimeSpan blockTimeout, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (c, s, ct) => c.ExecuteBlockingAsync(s.Command, s.BlockTimeout, ct), (Command: command, BlockTimeout: blockTimeout), cancellationToken);

    /// <inheritdoc cref="RedisConnection.ExecuteBlockingAsync(RedisBatch, TimeSpan, CancellationToken)"/>
    public ValueTask<RedisReply> ExecuteBlockingAsync(RedisBatch command, TimeSpan blockTimeout, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (c, s, ct) => c.ExecuteBlockingAsync(s.Command, s.BlockTimeout, ct), (Command: command, BlockTimeout: blockTimeout), cancellationToken);

    /// <inheritdoc cref="RedisConnection.ExecutePipelineAsync"/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ExecutePipelineAsync(RedisBatch batch, RedisReply[] replies, CancellationToken cancellationToken = default)
    {
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecutePipelineAsync(batch, replies, cancellationToken).ConfigureAwait(false);
            if (HasTopologyReply(replies, batch.Count)) await FollowPipelineAsync(connection, batch, replies, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or OperationCanceledException)
        {
            await Drop(connection, e).ConfigureAwait(false);
            throw;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RedisReply> ExecuteAsync<TState>(Func<RedisConnection, TState, CancellationToken, ValueTask<RedisReply>> run,
        TState state, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await run(connection, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or OperationCanceledException)
        {
            await Drop(connection, e).ConfigureAwait(false);
            throw;
        }
        catch (RedisServerException e) when (ClusterRedirect.IsTopologyReply(e))
        {
            return await FollowAsync(connection, e, run, state, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask Drop(RedisConnection connection, Exception cause)
    {
        if (ReferenceEquals(_connection, connection)) _connection = null;
        // Cancellation is the caller leaving (shutdown), not Redis going away: nothing to report.
        if (cause is RedisConnectionException) Report(RedisConnectionState.Down, cause.Message);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<RedisConnection> ReconnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } broken)
        {
            _connection = null;
            Report(RedisConnectionState.Down, broken.BrokenReason ?? "connection lost");
            await broken.DisposeAsync().ConfigureAwait(false);
        }
        for (int attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var backoff = Backoff(attempt);
            Reconnecting?.Invoke(AttemptBound() + backoff);
            try
            {
                var connection = await ConnectTargetAsync(cancellationToken).ConfigureAwait(false);
                if (_disposed)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw new ObjectDisposedException(nameof(RedisClient));
                }
                _connection = connection;
                _everUp = true;
                Report(RedisConnectionState.Up, UpReason(connection));
                return connection;
            }
            catch (RedisServerException e) when (RefusalEndsFirstConnect && !_everUp && Array.IndexOf(Refusals, e.Prefix) >= 0)
            {
                throw;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException && !cancellationToken.IsCancellationRequested)
            {
                if (!Report(RedisConnectionState.Down, e.Message) && e is RedisServerException && _downCause != e.Message)
                {
                    // Only refusals count as causes: a refused TCP connect in between must not make the same refusal new again.
                    _downCause = e.Message;
                    DownCauseChanged?.Invoke(e.Message.ReplaceLineEndings(" "));
                }
                AttemptFailed?.Invoke(e.Message);
            }
            await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The longest one connection attempt can take: every server it talks to (each sentinel in turn, then the
    /// target) gets ConnectTimeout to open the transport and ConnectTimeout for the handshake, and a command
    /// (the sentinel question, ROLE) within CommandTimeout when it is asked one.
    /// </summary>
    private TimeSpan AttemptBound()
    {
        int servers = Options.UsesSentinel ? Options.Sentinels!.Count + 1 : 1;
        var perServer = 2 * Options.ConnectTimeout + (Options.UsesSentinel || _demotions > 0 ? Options.CommandTimeout : TimeSpan.Zero);
        return servers * perServer;
    }

    /// <summary>Exponential growth from ReconnectBackoffMin, capped at ReconnectBackoffMax, with full jitter in [d/2, d].</summary>
    internal TimeSpan Backoff(int attempt)
    {
        double min = Math.Max(1, Options.ReconnectBackoffMin.TotalMilliseconds);
        double max = Math.Max(min, Options.ReconnectBackoffMax.TotalMilliseconds);
        if (Options.UsesSentinel) max = Math.Min(max, Math.Max(min, SentinelBackoffMax.TotalMilliseconds));
        double exponential = Math.Min(max, min * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(exponential * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    private string UpReason(RedisConnection connection)
    {
        string up = "connected to " + Options.Redacted() + TargetNote(connection);
        return Options.SecurityWarning is { } warning ? up + "; WARNING: " + warning : up;
    }

    /// <summary>True when the state changed (and was reported).</summary>
    private bool Report(RedisConnectionState state, string reason)
    {
        lock (_stateGate)
        {
            if (_state == state) return false;
            _state = state;
            _downCause = state == RedisConnectionState.Down ? reason : null;
        }
        _stateChanged?.Invoke(state, reason.ReplaceLineEndings(" "));
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        var connection = _connection;
        _connection = null;
        if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
    }
}
