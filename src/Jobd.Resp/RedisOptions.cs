// How to reach one Redis server: address, credentials, database, TLS, timeouts and limits.
// Immutable; safe to share between threads. Never prints its password (ToString is redacted).
using System;
using System.Text;

namespace Jobd.Resp;

/// <summary>Connection settings for <see cref="RedisConnection"/> and <see cref="RedisClient"/>. Immutable and thread-safe.</summary>
public sealed partial record RedisOptions
{
    public const int PortDefault = 6379;
    public const int MaxDatabase = 65535;
    public static readonly TimeSpan ConnectTimeoutDefault = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan CommandTimeoutDefault = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan KeepAliveTimeDefault = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan KeepAliveIntervalDefault = TimeSpan.FromSeconds(10);
    public const int KeepAliveRetryCountDefault = 3;
    public const long MaxReplyBytesDefault = 64L * 1024 * 1024;
    public static readonly TimeSpan ReconnectBackoffMinDefault = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan ReconnectBackoffMaxDefault = TimeSpan.FromSeconds(10);

    public string Host { get; init; } = "localhost";
    public int Port { get; init; } = PortDefault;
    public bool UseTls { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
    public int Database { get; init; }
    /// <summary>Sent with CLIENT SETNAME; Redis refuses spaces and newlines in it.</summary>
    public string? ClientName { get; init; }
    /// <summary>PEM file with the CA certificates trusted for the server certificate instead of the system store.</summary>
    public string? CaFile { get; init; }
    /// <summary>Skips server certificate validation. Off by default; the daemon must log <see cref="SecurityWarning"/>.</summary>
    public bool TlsInsecure { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = ConnectTimeoutDefault;
    /// <summary>Deadline for the reply to a non-blocking command (and the margin added to a blocking one).</summary>
    public TimeSpan CommandTimeout { get; init; } = CommandTimeoutDefault;
    /// <summary>Idle time before the first TCP keepalive probe.</summary>
    public TimeSpan KeepAliveTime { get; init; } = KeepAliveTimeDefault;
    public TimeSpan KeepAliveInterval { get; init; } = KeepAliveIntervalDefault;
    public int KeepAliveRetryCount { get; init; } = KeepAliveRetryCountDefault;
    /// <summary>Largest bulk string or aggregate length accepted; anything above closes the connection.</summary>
    public long MaxReplyBytes { get; init; } = MaxReplyBytesDefault;
    public TimeSpan ReconnectBackoffMin { get; init; } = ReconnectBackoffMinDefault;
    public TimeSpan ReconnectBackoffMax { get; init; } = ReconnectBackoffMaxDefault;
    /// <summary>
    /// Wait for a blocking command's reply (BLPOP) in poll(2) on the calling thread, as for every other command,
    /// instead of asynchronously. For a caller that has a thread to spare for the wait (jobd's execution loop): the
    /// reply then wakes that thread directly, not the runtime's epoll thread and then a pool thread, and the socket
    /// never joins the epoll set (once it has, every later reply wakes the epoll thread too). Plain TCP only.
    /// </summary>
    public bool BlockOnCallingThread { get; init; }

    /// <summary>Counts the round trips of every connection made with these options; null: not counted.</summary>
    public RoundTripCounter? RoundTrips { get; init; }

    /// <summary>The line the daemon must log at start-up when verification is off; null when nothing is unsafe.</summary>
    public string? SecurityWarning => UseTls && TlsInsecure
        ? $"TLS certificate verification is DISABLED for {Host}:{Port}: the connection can be intercepted"
        : null;

    /// <summary>The URL form with the password replaced by ***.</summary>
    public string Redacted()
    {
        var sb = new StringBuilder(64);
        bool sentinel = UsesSentinel;
        sb.Append(UseTls ? "rediss" : "redis").Append(sentinel ? "+sentinel://" : "://");
        if (User is not null || Password is not null)
        {
            if (User is not null) sb.Append(Uri.EscapeDataString(User));
            if (Password is not null) sb.Append(":***");
            sb.Append('@');
        }
        if (sentinel)
        {
            AppendSentinelTarget(sb);
            return sb.ToString();
        }
        if (Host.Contains(':')) sb.Append('[').Append(Host).Append(']');
        else sb.Append(Host);
        sb.Append(':').Append(Port).Append('/').Append(Database);
        return sb.ToString();
    }

    /// <summary>Where it connects, never the password (a record's generated ToString would print it).</summary>
    public override string ToString() => Redacted();

    /// <summary>
    /// Parses redis:// or rediss:// [user[:password]@]host[:port][/db], or redis+sentinel:// (rediss+sentinel://)
    /// [user[:password]@]host[:port][,host[:port]…]/master[/db]. Errors never contain the password.
    /// </summary>
    public static bool TryParseUrl(string url, out RedisOptions? options, out string? error) =>
        RedisUrlParser.TryParse(url, out options, out error);
}
