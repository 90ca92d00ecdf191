using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Outcomes;

/// <summary>Workers with a Redis database and a throwaway Postgres schema of their own; outcome rows read back.</summary>
public abstract class OutcomeTestBase : WorkerTest, IAsyncLifetime
{
    protected PostgresTestSchema Pg { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        Pg = await TestPostgres.CreateSchemaAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await Pg.DisposeAsync();
        await DisposeAsync();
    }

    protected (string, string)[] PgEnv(string? url = null) =>
        new[] { ("DATABASE_URL", url ?? Pg.Url), ("JOBD_PG_SCHEMA", Pg.Schema), ("JOBD_HEARTBEAT", "1s") };

    protected Task<long> RowsAsync(string where = "true") => Pg.ScalarAsync<long>("select count(*) from outcomes where " + where);

    /// <summary>Rows arrive asynchronously (the sink drains the outbox): wait for the count, or fail saying what was seen.</summary>
    protected async Task WaitForRowsAsync(long expected, TimeSpan timeout, string where = "true")
    {
        var deadline = DateTime.UtcNow + timeout;
        long seen = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = await RowsAsync(where);
                if (seen >= expected) break;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
            {
                // The table is not migrated yet.
            }
            await Task.Delay(50);
        }
        Assert.Equal(expected, seen);
    }

    protected long Counter(string name)
    {
        using var p = Db.Probe();
        return long.Parse((string?)p.Call("HGET", "{jobd}:stats", name) ?? "0");
    }

    protected async Task WaitForCounterAsync(string name, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Counter(name) < expected && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(expected, Counter(name));
    }
}
