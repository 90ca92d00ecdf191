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

    /// <summary>A counter of {jobd}:stats (done, dead, retried, recovered).</summary>
    protected long Counter(string name)
    {
        using var p = Db.Probe();
        return long.Parse((string?)p.Call("HGET", "{jobd}:stats", name) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
    }

    protected async Task WaitForCounterAsync(string name, long expected, System.TimeSpan timeout) =>
        Assert.Equal(expected, await Eventually.ReachesAsync(() => Task.FromResult(Counter(name)), expected, timeout));

    public Task DisposeAsync()
    {
        Db.Dispose();
        return Task.CompletedTask;
    }
}
