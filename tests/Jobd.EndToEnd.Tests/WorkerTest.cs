using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests;

/// <summary>A test class that runs workers against a Redis database of its own, leased and flushed per test.</summary>
public abstract class WorkerTest : IAsyncLifetime
{
    protected RedisTestDatabase Db { get; private set; } = null!;
    protected WorkerHarness H { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestRedis.LeaseAsync();
        H = new WorkerHarness(Db.Url, Db.Probe);
    }

    public Task DisposeAsync()
    {
        Db.Dispose();
        return Task.CompletedTask;
    }
}
