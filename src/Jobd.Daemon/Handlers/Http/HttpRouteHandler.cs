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
/// Redirects are followed by hand (when enabled), within the same origin only.
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

    /// <summary>
    /// The one connection pool of all http routes: few connections per server, recycled, never through a proxy.
    /// Each connection goes through <see cref="DestinationGuard"/>; a response not read to its end (a body over the
    /// result limit) closes its connection instead of draining it.
    /// </summary>
    public static HttpClient CreateClient(string[]? allow = null) => new(new SocketsHttpHandler
    {
        ConnectCallback = DestinationGuard.ConnectCallback(allow),
        // Direct connections only: through an HTTP_PROXY the guard would see the proxy, not the destination.
        UseProxy = false,
        MaxResponseDrainSize = 0,
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
                    if (hop == MaxRedirects) return JobOutcome.Fail("http " + status + ": more than " + MaxRedirects + " redirects");
                    // Same origin only: the signed envelope never goes to a scheme, host or port the operator did not
                    // configure (a 302 to http://169.254.169.254/ stays a failure), so no allowlist check is needed.
                    var next = new Uri(url, location);
                    if (next.Scheme != url.Scheme || next.IdnHost != url.IdnHost || next.Port != url.Port)
                        return JobOutcome.Fail("http " + status + ": redirect to another origin (" + next.GetLeftPart(UriPartial.Authority) + "), not followed");
                    url = next;
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
        catch (HttpRequestException e) when (e.InnerException is DestinationRefusedException refused)
        {
            return JobOutcome.Fail("http: " + refused.Message);
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

    /// <summary>The shortest delay a Retry-After can ask for: 0 or a past date means "now", which is 1 s.</summary>
    public static readonly TimeSpan RetryAfterMin = TimeSpan.FromSeconds(1);

    /// <summary>The longest: a broken or hostile server cannot park a job for years.</summary>
    public static readonly TimeSpan RetryAfterMax = TimeSpan.FromDays(1);

    /// <summary>
    /// Retry-After in seconds or as an HTTP-date, clamped to [<see cref="RetryAfterMin"/>, <see cref="RetryAfterMax"/>];
    /// null (the usual backoff) when absent or not a valid value (negative, garbage).
    /// </summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        TimeSpan asked;
        if (header?.Delta is { } delta) asked = delta;
        else if (header?.Date is { } date) asked = date - now;
        else return null;
        return asked < RetryAfterMin ? RetryAfterMin : asked > RetryAfterMax ? RetryAfterMax : asked;
    }

    /// <summary>
    /// Reads at most <paramref name="limit"/> bytes (pooled buffer) and one more to tell a body of exactly the
    /// limit from a longer one; the rest is never read: the caller disposes the response, which drops the
    /// connection, so an endless or 1 GB body costs no more than the limit.
    /// </summary>
    private static async Task<(byte[], int, bool)> ReadBoundedAsync(HttpResponseMessage response, long limit, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            int want = (int)limit + 1;
            var buffer = ArrayPool<byte>.Shared.Rent(want);
            int length = 0;
            while (length < want)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(length, want - length), cancellationToken).ConfigureAwait(false);
                if (n == 0) return (buffer, length, false);
                length += n;
            }
            return (buffer, (int)limit, true);
        }
    }

    /// <summary>
    /// The URL for a job type: the route's URL, or its template with {type} percent-encoded. A type that makes a dot
    /// segment ("." or ".." as a whole path segment, which Uri resolves: /jobs/. becomes /jobs/, /jobs/.. becomes /)
    /// is refused outright, since the prefix check alone would let /jobs/. through as /jobs/; then the host, port
    /// and path prefix are checked again after substitution. Either way the job fails for good.
    /// </summary>
    public static Uri? UrlFor(Route route, string type, string[]? allow, out string? problem)
    {
        problem = null;
        if (route.UrlTemplate is not { } template) return route.Url;
        var encoded = Uri.EscapeDataString(type);
        var raw = template.Replace("{type}", encoded, StringComparison.Ordinal);
        var expected = route.Url!;
        // route.Url was parsed from the template with "t" for {type}: the same text with a type that cannot be a dot.
        if (DotSegments(raw) != DotSegments(expected.OriginalString))
        {
            problem = TypeChangesUrl;
            return null;
        }
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url))
        {
            problem = "the URL built for this type is not valid";
            return null;
        }
        var prefix = template[..template.IndexOf("{type}", StringComparison.Ordinal)];
        if (url.Scheme != expected.Scheme || url.IdnHost != expected.IdnHost || url.Port != expected.Port
            || !Uri.TryCreate(prefix, UriKind.Absolute, out var prefixUrl)
            || !url.AbsoluteUri.StartsWith(prefixUrl.AbsoluteUri, StringComparison.Ordinal))
        {
            problem = TypeChangesUrl;
            return null;
        }
        if (allow is not null && !RouteTable.IsAllowed(allow, url.IdnHost))
        {
            problem = "host " + url.IdnHost + " is not in JOBD_HTTP_ALLOW";
            return null;
        }
        return url;
    }

    private const string TypeChangesUrl = "the job type would change the URL's host or path";

    /// <summary>
    /// Path segments of an absolute URL that are "." or "..", which Uri would resolve away. The template's own
    /// text counts the same with any type; an encoded type holds no '/' or '%', so only a type that is all dots can
    /// add one.
    /// </summary>
    private static int DotSegments(string url)
    {
        int start = url.IndexOf("//", StringComparison.Ordinal);
        start = start < 0 ? -1 : url.IndexOf('/', start + 2);
        if (start < 0) return 0;
        int end = url.IndexOfAny(PathEnd, start);
        var path = url.AsSpan(start, (end < 0 ? url.Length : end) - start);
        int count = 0;
        foreach (var range in path.Split('/'))
            if (path[range] is "." or "..") count++;
        return count;
    }

    private static readonly char[] PathEnd = { '?', '#' };
}
