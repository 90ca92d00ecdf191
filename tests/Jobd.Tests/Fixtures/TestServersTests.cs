using System;
using System.Threading.Tasks;
using Jobd.Testing;
using Npgsql;
using Xunit;

namespace Jobd.Tests.Fixtures;

/// <summary>The fixtures every other test stands on: real servers, clean slates, clear failures.</summary>
public sealed class TestServersTests
{
    [Fact]
    public async Task A_redis_lease_is_a_flushed_database_of_its_own()
    {
        using var a = await TestRedis.LeaseAsync();
        using var b = await TestRedis.LeaseAsync();
        Assert.NotEqual(a.Index, b.Index);
        using (var pa = a.Probe()) pa.Call("SET", "k", "from-a");
        using (var pb = b.Probe()) Assert.Null(pb.Call("GET", "k"));
    }

    [Fact]
    public async Task A_returned_database_is_flushed_before_its_next_lease()
    {
        var first = await TestRedis.LeaseAsync();
        int index = first.Index;
        using (var p = first.Probe()) p.Call("SET", "left-over", "1");
        first.Dispose();
        // Other tests lease in parallel: hold what we get until the returned index comes back.
        var held = new System.Collections.Generic.List<RedisTestDatabase>();
        try
        {
            while (true)
            {
                var lease = await TestRedis.LeaseAsync();
                held.Add(lease);
                if (lease.Index != index) continue;
                using var p = lease.Probe();
                Assert.Equal(0L, p.Call("DBSIZE"));
                return;
            }
        }
        finally
        {
            foreach (var h in held) h.Dispose();
        }
    }

    [Fact]
    public async Task A_postgres_schema_is_private_to_its_test_and_dropped_after()
    {
        string schema;
        string admin;
        await using (var s = await TestPostgres.CreateSchemaAsync())
        {
            schema = s.Schema;
            admin = new NpgsqlConnectionStringBuilder(s.ConnectionString) { SearchPath = null }.ConnectionString;
            await using var conn = new NpgsqlConnection(s.ConnectionString);
            await conn.OpenAsync();
            await using (var create = new NpgsqlCommand("create table t (id int); insert into t values (1)", conn))
                await create.ExecuteNonQueryAsync();
            await using var count = new NpgsqlCommand($"select count(*) from {schema}.t", conn);
            Assert.Equal(1L, await count.ExecuteScalarAsync());
        }
        await using var check = new NpgsqlConnection(admin);
        await check.OpenAsync();
        await using var exists = new NpgsqlCommand("select count(*) from pg_namespace where nspname = @n", check);
        exists.Parameters.AddWithValue("n", schema);
        Assert.Equal(0L, await exists.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Postgres_does_not_run_as_root()
    {
        await using var s = await TestPostgres.CreateSchemaAsync();
        await using var conn = new NpgsqlConnection(s.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select pg_backend_pid()", conn);
        var pid = (int)(await cmd.ExecuteScalarAsync())!;
        var status = await System.IO.File.ReadAllTextAsync($"/proc/{pid}/status");
        var uidLine = Array.Find(status.Split('\n'), l => l.StartsWith("Uid:", StringComparison.Ordinal))!;
        Assert.DoesNotContain("\t0\t", uidLine + "\t");
    }

    [Fact]
    public async Task A_throwaway_redis_survives_kill_and_restart_with_aof()
    {
        await using var server = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        using (var p = server.Probe()) p.Call("SET", "durable", "yes");
        await server.KillAsync();
        Assert.True(server.Process.HasExited);
        await server.RestartAsync();
        using var after = server.Probe();
        Assert.Equal("yes", after.Call("GET", "durable"));
    }

    [Fact]
    public void A_missing_server_binary_fails_with_the_install_hint()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ServerBinaries.Find("redis-server-that-does-not-exist", RedisServer.InstallHint));
        Assert.Contains("not found on PATH", e.Message);
        Assert.Contains("apt-get install redis-server", e.Message);
    }
}
