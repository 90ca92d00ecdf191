using System;
using System.Collections.Generic;

namespace Jobd.Handlers;

/// <summary>Job type → handler, filled at start-up (compiled-in handlers here; routes later) and then read-only.</summary>
public sealed class HandlerRegistry
{
    private readonly Dictionary<string, IJobHandler> _handlers = new(StringComparer.Ordinal);

    public HandlerRegistry Register(string type, IJobHandler handler)
    {
        if (!Jobd.Queue.Names.IsType(type)) throw new ArgumentException(Jobd.Queue.Names.TypeRule, nameof(type));
        if (!_handlers.TryAdd(type, handler)) throw new ArgumentException("a handler for " + type + " is already registered", nameof(type));
        return this;
    }

    public bool TryGet(string type, out IJobHandler handler) => _handlers.TryGetValue(type, out handler!);

    public IEnumerable<string> Types => _handlers.Keys;

    /// <summary>The handlers every jobd binary ships: noop, sleep and fail, for tests, demos and benchmarks.</summary>
    public static HandlerRegistry WithBuiltIns() => new HandlerRegistry()
        .Register("noop", new NoopHandler())
        .Register("sleep", new SleepHandler())
        .Register("fail", new FailHandler());
}
