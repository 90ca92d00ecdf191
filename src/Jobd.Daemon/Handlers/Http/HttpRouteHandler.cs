using System;
using System.Buffers;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers.Routes;
using Jobd.Queue;

namespace Jobd.Handlers.Http;

/// <summary>
/// http:URL routes: POSTs the envelope (signed when JOBD_HTTP_SECRET is set). 2xx: success, the body is the result;
/// 408, 429, 5xx, connection errors and timeouts: retry (Retry-After honoured); any other status: permanent.
/// Redirects are followed by hand (when enabled), so the allowlist applies to every hop.
/// </summary>
public sealed class HttpRouteHandler : IJobHandler
{
    private const int MaxRedirects = 3;
    private const int ErrorExcerptChars = 200;

    private readonly HttpClient _client;
    private readonly Route _route;
    private readonly RouteTable _settings;
    private readonly string _userAgent;

    public HttpRouteHandler(HttpClient client, Route route, RouteTable settings, string version)
    {
        _client = client;
        _route = route;
        _settings = settings;
        _userAgent = "jobd/" + version;
    }

    /// <summary>The one connection pool of all http routes: few connections per server, recycled.</summary>
    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        MaxConnectionsPerServer = 4,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        // AutomaticDecompression is left unset, not set to None: only its setter roots the decompression handler,
        // and without it the trimmer drops Brotli and zlib (about 1 MB of the binary). Bodies arrive as sent.
    }, disposeHandler: true)
    { Timeout = Timeout.InfiniteTimeSpan };

    public async ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken)
    {
        var url = UrlFor(_route, job.Type, _settings.HttpAllow, out var problem);
        if (url is null) return JobOutcome.Fail("http: " + problem);
        var body = HttpEnvelope.Write(job);
        try
        {
            for (int hop = 0; ; hop++)
            {
                using var response = await SendAsync(url, body, job, cancellationToken).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && _settings.HttpRedirects && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects) return JobOutcome.Fail("http: more than " + MaxRedirects + " redirects");
                    url = new Uri(url, location);
                    if (url.Scheme != "http" && url.Scheme != "https") return JobOutcome.Fail("http: redirect to a non-http URL");
                    if (_settings.HttpAllow is { } allow && !RouteTable.IsAllowed(allow, url.IdnHost))
                        return JobOutcome.Fail("http: redirect to host " + url.IdnHost + ", which is not in JOBD_HTTP_ALLOW");
                    continue;
                }
                return await OutcomeAsync(response, status, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The handler's own ConnectTimeout, not the job's token: the runner's cancellation (timeout: retry;
            // shutdown: the job goes back unspent) propagates untouched.
            return JobOutcome.RetryLater("http: connection timed out");
        }
        catch (HttpRequestException e)
        {
            return JobOutcome.RetryLater("http: " + (e.HttpRequestError == HttpRequestError.Unknown ? "request failed" : e.HttpRequestError.ToString()) + ": " + ResultText.Excerpt(e.Message, ErrorExcerptChars));
        }
        catch (IOException e)
        {
            return JobOutcome.RetryLater("http: connection error: " + ResultText.Excerpt(e.Message, ErrorExcerptChars));
        }
    }

    private Task<HttpResponseMessage> SendAsync(Uri url, byte[] body, RunningJob job, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", _userAgent);
        request.Headers.TryAddWithoutValidation("X-Jobd-Id", job.Id);
        request.Headers.TryAddWithoutValidation("X-Jobd-Type", job.Type);
        request.Headers.TryAddWithoutValidation("X-Jobd-Attempt", job.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_settings.HttpSecret is { } secret)
            request.Headers.TryAddWithoutValidation(HttpSignature.Header,
                HttpSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, secret, _settings.HttpSecretNext));
        return _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private async Task<JobOutcome> OutcomeAsync(HttpResponseMessage response, int status, CancellationToken cancellationToken)
    {
        var (bytes, length, truncated) = await ReadBoundedAsync(response, _settings.MaxResultBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            if (status is >= 200 and < 300)
                return JobOutcome.Success(ResultText.FromBytes(bytes.AsSpan(0, length), truncated));
            var excerpt = ResultText.Excerpt(System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(length, 4 * ErrorExcerptChars)), ErrorExcerptChars);
            var error = "http " + status + (excerpt.Length > 0 ? ": " + excerpt : "");
            if (status is 408 or 429 or >= 500)
                return JobOutcome.RetryLater(error, RetryAfter(response.Headers.RetryAfter, DateTimeOffset.UtcNow));
            return JobOutcome.Fail(error);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Retry-After in seconds or as an HTTP-date; null when absent or already past.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header is null) return null;
        if (header.Delta is { } delta) return delta > TimeSpan.Zero ? delta : null;
        if (header.Date is { } date && date > now) return date - now;
        return null;
    }

    /// <summary>Keeps at most <paramref name="limit"/> bytes (pooled buffer) and reads the rest to discard it.</summary>
    private static async Task<(byte[], int, bool)> ReadBoundedAsync(HttpResponseMessage response, long limit, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)limit);
            int length = 0;
            bool truncated = false;
            while (length < limit)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(length, (int)limit - length), cancellationToken).ConfigureAwait(false);
                if (n == 0) return (buffer, length, false);
                length += n;
            }
            // Over the limit: drain the rest (so the connection can be reused) into a scratch buffer.
            var scratch = ArrayPool<byte>.Shared.Rent(16384);
            try
            {
                while (await stream.ReadAsync(scratch.AsMemory(), cancellationToken).ConfigureAwait(false) > 0) truncated = true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
            return (buffer, length, truncated);
        }
    }

    /// <summary>
    /// The URL for a job type: the route's URL, or its template with {type} percent-encoded. The host, port and path
    /// prefix are checked again after substitution: Uri unescapes %2E, so a type of "." or ".." (a dot segment that
    /// would climb out of the path) fails that check, and its job fails for good.
    /// </summary>
    public static Uri? UrlFor(Route route, string type, string[]? allow, out string? problem)
    {
        problem = null;
        if (route.UrlTemplate is not { } template) return route.Url;
        var encoded = Uri.EscapeDataString(type);
        if (!Uri.TryCreate(template.Replace("{type}", encoded, StringComparison.Ordinal), UriKind.Absolute, out var url))
        {
            problem = "the URL built for this type is not valid";
            return null;
        }
        var expected = route.Url!;
        var prefix = template[..template.IndexOf("{type}", StringComparison.Ordinal)];
        if (url.Scheme != expected.Scheme || url.IdnHost != expected.IdnHost || url.Port != expected.Port
            || !Uri.TryCreate(prefix, UriKind.Absolute, out var prefixUrl)
            || !url.AbsoluteUri.StartsWith(prefixUrl.AbsoluteUri, StringComparison.Ordinal))
        {
            problem = "the job type would change the URL's host or path";
            return null;
        }
        if (allow is not null && !RouteTable.IsAllowed(allow, url.IdnHost))
        {
            problem = "host " + url.IdnHost + " is not in JOBD_HTTP_ALLOW";
            return null;
        }
        return url;
    }
}
