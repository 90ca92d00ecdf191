using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>A test class with a flushed Redis database of its own per test, a client on it and the default keys.</summary>
public abstract class RedisTest : IAsyncLifetime
{
    protected RedisTestDatabase Db { get; private set; } = null!;
    protected RedisClient Redis { get; private set; } = null!;
    protected QueueKeys Keys { get; } = new("jobd");

    public virtual async Task InitializeAsync()
    {
        Db = await TestRedis.LeaseAsync();
        RedisOptions.TryParseUrl(Db.Url, out var options, out _);
        Redis = new RedisClient(options!);
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        Db.Dispose();
    }
}
