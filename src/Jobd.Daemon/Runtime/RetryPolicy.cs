using System;

namespace Jobd.Runtime;

/// <summary>
/// When a retryable failure runs again: attempt⁴ + 15 s + a random 0–10 s × (attempt + 1), the polynomial backoff
/// Sidekiq users know (attempt 1 → ~16–36 s, 5 → ~11 min, 25 → ~4.5 days); jitter spreads a failing batch out.
/// A handler's own retry-after (HTTP 429 Retry-After, say) wins, clamped to [0, 30 d].
/// </summary>
public static class RetryPolicy
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(30);

    public static TimeSpan Delay(int attempt, Random random, TimeSpan? requested = null)
    {
        if (requested is { } r) return r < TimeSpan.Zero ? TimeSpan.Zero : r > MaxDelay ? MaxDelay : r;
        double a = Math.Max(1, attempt);
        double seconds = Math.Pow(a, 4) + 15 + random.Next(0, 11) * (a + 1);
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxDelay.TotalSeconds));
    }
}
