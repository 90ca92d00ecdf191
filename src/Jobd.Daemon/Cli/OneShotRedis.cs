using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Resp;

namespace Jobd.Cli;

/// <summary>
/// Redis for a one-shot verb (enqueue, later stats and admin): unlike the daemon, which waits out an outage, a
/// command gives up after the connect timeout and says why in one line (exit 69).
/// </summary>
public static class OneShotRedis
{
    public static async Task<RedisClient> ConnectAsync(RedisOptions options)
    {
        string? lastProblem = null;
        var client = new RedisClient(options, (state, reason) =>
        {
            if (state == RedisConnectionState.Down) lastProblem = reason;
        });
        using var deadline = new CancellationTokenSource(options.ConnectTimeout);
        try
        {
            await client.ConnectAsync(deadline.Token).ConfigureAwait(false);
            return client;
        }
        catch (OperationCanceledException)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new RedisConnectionException($"redis unavailable at {options.Redacted()}: {lastProblem ?? "no answer"} (gave up after {options.ConnectTimeout.TotalSeconds:0.#}s)");
        }
    }
}
