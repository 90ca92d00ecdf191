// Connection set-up: open the transport, then AUTH, SELECT and CLIENT SETNAME pipelined in one round trip,
// bounded by ConnectTimeout. A failed set-up disposes the connection and throws: RedisConnectionException when the
// server could not be reached or the TLS handshake failed, RedisServerException (WRONGPASS, NOPERM…) when it refused.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

public sealed partial class RedisConnection
{
    private static readonly byte[] AuthName = "AUTH"u8.ToArray();
    private static readonly byte[] SelectName = "SELECT"u8.ToArray();
    private static readonly byte[] ClientName = "CLIENT"u8.ToArray();
    private static readonly byte[] SetNameName = "SETNAME"u8.ToArray();

    /// <summary>Connects, authenticates, selects the database and names the client. One attempt, no retry.</summary>
    public static async Task<RedisConnection> ConnectAsync(RedisOptions options, CancellationToken cancellationToken = default)
    {
        var (socket, stream) = await RedisTransport.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        var connection = new RedisConnection(options, socket, stream);
        try
        {
            await connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        using var batch = new RedisBatch();
        if (Options.Password is not null)
        {
            // AUTH password (the default user) or AUTH user password (an ACL user): https://redis.io/commands/auth/
            if (Options.User is not null) batch.Begin(3).Arg(AuthName).Arg(Options.User).Arg(Options.Password);
            else batch.Begin(2).Arg(AuthName).Arg(Options.Password);
        }
        if (Options.Database != 0) batch.Begin(2).Arg(SelectName).Arg(Options.Database);
        if (Options.ClientName is not null) batch.Begin(3).Arg(ClientName).Arg(SetNameName).Arg(Options.ClientName);
        if (batch.Count == 0) return;
        var replies = new RedisReply[batch.Count];
        await RunAsync(batch.Written, batch.Count, null, replies, Options.ConnectTimeout, false, cancellationToken).ConfigureAwait(false);
        // The first refusal explains the rest (after a failed AUTH, SELECT answers NOAUTH).
        foreach (var reply in replies) reply.ThrowIfError();
    }
}
