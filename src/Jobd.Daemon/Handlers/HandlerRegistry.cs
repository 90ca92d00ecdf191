using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Jobd.Handlers;

/// <summary>Job type → handler, filled at start-up (compiled-in handlers here; routes later) and then read-only.</summary>
public sealed class HandlerRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, IJobHandler> _handlers = new(StringComparer.Ordinal);

    public HandlerRegistry Register(string type, IJobHandler handler)
    {
        if (!Jobd.Queue.Names.IsType(type)) throw new ArgumentException(Jobd.Queue.Names.TypeRule, nameof(type));
        if (!_handlers.TryAdd(type, handler)) throw new ArgumentException("a handler for " + type + " is already registered", nameof(type));
        return this;
    }

    private IJobHandler? _fallback;

    /// <summary>The handler for types without their own (JOBD_DEFAULT_ROUTE); unset, such jobs go dead as no_route.</summary>
    public HandlerRegistry SetFallback(IJobHandler handler)
    {
        _fallback = handler;
        return this;
    }

    public bool TryGet(string type, out IJobHandler handler)
    {
        if (_handlers.TryGetValue(type, out handler!)) return true;
        handler = _fallback!;
        return handler is not null;
    }

    public bool Contains(string type) => _handlers.ContainsKey(type);

    public IEnumerable<string> Types => _handlers.Keys;

    /// <summary>The handlers every jobd binary ships: noop, sleep and fail, for tests, demos and benchmarks.</summary>
    public static HandlerRegistry WithBuiltIns() => new HandlerRegistry()
        .Register("noop", new NoopHandler())
        .Register("sleep", new SleepHandler())
        .Register("fail", new FailHandler());

    private readonly List<IAsyncDisposable> _owned = new();

    /// <summary>Something the handlers share (the sql routes' data source), closed when the worker stops.</summary>
    public void Own(IAsyncDisposable resource) => _owned.Add(resource);

    public async ValueTask DisposeAsync()
    {
        foreach (var r in _owned) await r.DisposeAsync().ConfigureAwait(false);
        _owned.Clear();
    }
}
