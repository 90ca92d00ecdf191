// Opens the byte stream under a connection: TCP with NoDelay and keepalive, then TLS when asked, validating the
// server certificate against the system store or a custom CA file, unless verification is explicitly disabled.
// Never retries: one attempt, bounded by ConnectTimeout; the reconnect policy lives in RedisClient.
using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Resp;

internal static class RedisTransport
{
    public static async Task<(Socket Socket, Stream Stream)> OpenAsync(RedisOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        Socket? socket = null;
        try
        {
            socket = await ConnectAsync(options, timeout.Token).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (options.UseTls) stream = await AuthenticateAsync(stream, options, timeout.Token).ConfigureAwait(false);
            return (socket, stream);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new RedisConnectionException(
                $"cannot connect to {options.Host}:{options.Port}: no answer within {options.ConnectTimeout.TotalSeconds:0.###}s");
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw new RedisConnectionException($"cannot connect to {options.Host}:{options.Port}: {e.Message}", e);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or CryptographicException)
        {
            socket?.Dispose();
            throw new RedisConnectionException($"TLS handshake with {options.Host}:{options.Port} failed: {OneLine(e)}", e);
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Tries each address in turn with a blocking connect on a pool thread, bounded by the timeout. Why not
    /// ConnectAsync: the runtime registers a socket with epoll on its first asynchronous wait and from then on wakes
    /// its event thread for every reply, which halves round trips per second; a socket that never waited
    /// asynchronously keeps the synchronous fast path of RedisConnection.ReadAsync cheap.
    /// </summary>
    private static async Task<Socket> ConnectAsync(RedisOptions options, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(options.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(options.Host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                ConfigureKeepAlive(socket, options);
                using (cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket))
                {
                    var endpoint = new IPEndPoint(address, options.Port);
                    await Task.Run(() => socket.Connect(endpoint), cancellationToken).ConfigureAwait(false);
                }
                cancellationToken.ThrowIfCancellationRequested();
                return socket;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                socket.Dispose(); // the connect failed because the timeout closed the socket
                throw new OperationCanceledException(cancellationToken);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e; // a refused ::1 says nothing about 127.0.0.1: try the next address
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private static void ConfigureKeepAlive(Socket socket, RedisOptions options)
    {
        // A dead peer behind a NAT or a dropped VM never sends RST: keepalive is how an idle blocking wait notices.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Seconds(options.KeepAliveTime));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Seconds(options.KeepAliveInterval));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, Math.Max(1, options.KeepAliveRetryCount));
    }

    private static int Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));

    private static async Task<Stream> AuthenticateAsync(Stream inner, RedisOptions options, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var auth = new SslClientAuthenticationOptions
        {
            TargetHost = options.Host,
            EnabledSslProtocols = SslProtocols.None, // the OS default: TLS 1.2 and 1.3
        };
        if (options.TlsInsecure)
        {
            // The loud opt-out: RedisOptions.SecurityWarning is what the daemon logs for it.
            auth.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (options.CaFile is not null)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(LoadCaFile(options.CaFile));
            auth.CertificateChainPolicy = policy;
        }
        string? refused = null;
        if (!options.TlsInsecure)
        {
            // Only to say why in words: the verdict is the runtime's (errors other than None refuse the server).
            auth.RemoteCertificateValidationCallback = (_, _, chain, errors) =>
            {
                if (errors == SslPolicyErrors.None) return true;
                refused = DescribeRefusal(errors, chain, options);
                return false;
            };
        }
        try
        {
            await ssl.AuthenticateAsClientAsync(auth, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (refused is not null && e is AuthenticationException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new RedisConnectionException($"TLS handshake with {options.Host}:{options.Port} failed: {refused}; jobd never falls back to plaintext", e);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Why the server's certificate was refused, in words an operator can act on, with the runtime's flags.</summary>
    internal static string DescribeRefusal(SslPolicyErrors errors, X509Chain? chain, RedisOptions options)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return "the server sent no certificate";
        var status = X509ChainStatusFlags.NoError;
        if (chain is not null)
            foreach (var s in chain.ChainStatus) status |= s.Status;
        string trust = options.CaFile is null
            ? "is not signed by a CA this machine trusts (no CA file was given)"
            : $"is not signed by the CA in {options.CaFile}";
        var why = new System.Collections.Generic.List<string>(3);
        if ((status & X509ChainStatusFlags.NotTimeValid) != 0) why.Add("has expired or is not valid yet");
        if ((status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0) why.Add(trust);
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) why.Add($"does not name {options.Host}");
        if (why.Count == 0) why.Add("failed verification");
        return $"the server's certificate {string.Join(" and ", why)} ({errors}{(status == X509ChainStatusFlags.NoError ? "" : ": " + status)})";
    }

    private static X509Certificate2Collection LoadCaFile(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new RedisConnectionException($"cannot read the CA file {path}: {OneLine(e)}", e);
        }
        if (certificates.Count == 0) throw new RedisConnectionException($"the CA file {path} holds no PEM certificate");
        return certificates;
    }

    internal static string OneLine(Exception e)
    {
        string message = e.InnerException is { } inner && inner.Message.Length > 0 && e is AuthenticationException
            ? e.Message + " (" + inner.Message + ")"
            : e.Message;
        return message.ReplaceLineEndings(" ");
    }
}
