// The typed failures of the RESP client. A connection failure is retryable (the command's outcome is unknown and
// the connection is gone); a server error reply is not a connection failure (the connection stays usable).
using System;

namespace Jobd.Resp;

/// <summary>
/// The connection broke (I/O error, timeout, cancellation, malformed or oversized frame, closed by the peer) before
/// the reply arrived. The command may or may not have run; the connection is never reused. Retryable.
/// </summary>
public class RedisConnectionException : Exception
{
    public RedisConnectionException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>Always true: a new connection may succeed; the caller decides whether running the command twice is safe.</summary>
    public bool IsRetryable => true;
}

/// <summary>The server sent something that is not RESP2, or a length above <see cref="RedisOptions.MaxReplyBytes"/>.</summary>
public sealed class RedisProtocolException : RedisConnectionException
{
    public RedisProtocolException(string message) : base(message) { }
}

/// <summary>An error reply (-PREFIX message). The connection that received it is still in sync and usable.</summary>
public sealed class RedisServerException : Exception
{
    public RedisServerException(string prefix, string serverMessage)
        : base(serverMessage.Length == 0 ? prefix : prefix + " " + serverMessage)
    {
        Prefix = prefix;
        ServerMessage = serverMessage;
    }

    /// <summary>The first word of the error: ERR, NOSCRIPT, READONLY, BUSY, WRONGPASS, NOPERM, OOM, MOVED, …</summary>
    public string Prefix { get; }

    /// <summary>The rest of the error line.</summary>
    public string ServerMessage { get; }

    public bool Is(string prefix) => string.Equals(Prefix, prefix, StringComparison.Ordinal);

    /// <summary>Splits an error line the way Redis writes it: an upper-case code, a space, the message.</summary>
    internal static RedisServerException FromLine(string line)
    {
        int space = line.IndexOf(' ');
        string prefix = space < 0 ? line : line[..space];
        string rest = space < 0 ? "" : line[(space + 1)..];
        return new RedisServerException(prefix, rest);
    }
}
