using System;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// For counts that something else raises asynchronously and announces nowhere (rows a sink writes, counters a
/// script bumps): read until the count reaches the target or the time is up, then return the last reading so
/// the test asserts on what it saw.
/// </summary>
public static class Eventually
{
    public static async Task<long> ReachesAsync(Func<Task<long>> read, long target, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long seen = -1;
        while (true)
        {
            try
            {
                seen = await read().ConfigureAwait(false);
                if (seen >= target) return seen;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
            {
                // Not there yet (a table not migrated, a server restarting).
            }
            if (DateTime.UtcNow >= deadline) return seen;
            await Task.Delay(50).ConfigureAwait(false);
        }
    }
}
