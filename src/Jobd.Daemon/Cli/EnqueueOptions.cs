using System;
using System.Globalization;
using Jobd.Config;
using Jobd.Queue;

namespace Jobd.Cli;

/// <summary>Turns the textual options of `jobd enqueue` (flags or a batch line) into an <see cref="EnqueueRequest"/>.</summary>
internal static class EnqueueOptions
{
    public static EnqueueRequest Build(string type, string? args, string? queue, string? delay, string? at, string? unique,
        string? maxAttempts, string? timeout, string? id)
    {
        if (delay is not null && at is not null) throw new JobRejectedException("in/at", "give --in or --at, not both");
        int? attempts = null;
        if (maxAttempts is not null)
        {
            if (!int.TryParse(maxAttempts, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw new JobRejectedException("max attempts", ValueText.Quote(maxAttempts) + " is not a whole number from 1 to 1000");
            attempts = n;
        }
        return new EnqueueRequest
        {
            Type = type,
            ArgsJson = args ?? "{}",
            Queue = queue ?? EnqueueRequest.QueueDefault,
            Id = id,
            Delay = delay is null ? null : Duration("in", delay),
            RunAt = at is null ? null : Instant(at),
            UniqueKey = unique,
            MaxAttempts = attempts,
            Timeout = timeout is null ? null : Duration("timeout", timeout),
        };
    }

    private static TimeSpan Duration(string field, string text) =>
        ValueParsers.TryDuration(text, out var d, out var problem) ? d : throw new JobRejectedException(field, problem);

    private static DateTimeOffset Instant(string text)
    {
        // RFC 3339 requires the offset (Z or ±hh:mm): a time without one would silently mean the local zone.
        bool hasOffset = text.EndsWith('Z') || text.EndsWith('z') || text.Length > 6 && text[^3] == ':' && text[^6] is '+' or '-';
        if (!hasOffset || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            throw new JobRejectedException("at", ValueText.Quote(text) + " is not an RFC 3339 time such as 2026-12-01T09:00:00Z");
        return at;
    }
}
