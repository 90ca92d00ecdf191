using System;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers;
using Jobd.Handlers.Routes;
using Jobd.Handlers.Sql;
using Jobd.Testing;
using Npgsql;
using Xunit;
using static Jobd.Tests.Handlers.HandlerTestJobs;

namespace Jobd.Tests.Handlers;

/// <summary>sql: routes against the real Postgres of the test run; each test has its own schema and functions.</summary>
public sealed class SqlRouteHandlerTests : IAsyncLifetime
{
    private PostgresTestSchema _pg = null!;
    private HandlerRegistry? _registry;

    public async Task InitializeAsync() => _pg = await TestPostgres.CreateSchemaAsync();

    public async Task DisposeAsync()
    {
        if (_registry is not null) await _registry.DisposeAsync();
        await _pg.DisposeAsync();
    }

    private async Task Execute(string sql)
    {
        await using var conn = new NpgsqlConnection(_pg.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private IJobHandler Handler(string function, params (string, string)[] more)
    {
        var pairs = new System.Collections.Generic.List<(string, string)>
        {
            ("JOBD_ROUTE_t1", "sql:" + _pg.Schema + "." + function), ("DATABASE_URL", _pg.Url),
        };
        pairs.AddRange(more);
        _registry = new HandlerRegistry();
        RouteHandlers.Register(_registry, LoadConfig(pairs.ToArray()));
        Assert.True(_registry.TryGet("t1", out var h));
        return h;
    }

    private static async Task<JobOutcome> Run(IJobHandler h, string args = "{\"n\":7}", int? timeoutMs = null)
    {
        // The runner's own cancellation is kept far away, so what is seen here is the handler's doing.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await h.RunAsync(Job(args: args, timeoutMs: timeoutMs), cts.Token);
    }

    [Fact]
    public async Task A_jsonb_function_gets_the_args_and_its_value_is_the_result()
    {
        await Execute($"create function {_pg.Schema}.echo(a jsonb) returns jsonb language sql as $$ select jsonb_build_object('got', a, 'n2', (a->>'n')::int * 2) $$");
        var outcome = await Run(Handler("echo"));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Equal("{\"n2\": 14, \"got\": {\"n\": 7}}", outcome.Result);
    }

    [Fact]
    public async Task An_int_function_renders_to_json()
    {
        await Execute($"create function {_pg.Schema}.twice(a jsonb) returns int language sql as $$ select (a->>'n')::int * 2 $$");
        var outcome = await Run(Handler("twice"));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Equal("14", outcome.Result);
    }

    [Fact]
    public async Task A_text_function_renders_to_a_json_string_and_a_void_one_to_no_result()
    {
        await Execute($"create function {_pg.Schema}.greet(a jsonb) returns text language sql as $$ select 'hi \"' || (a->>'n') || '\"' $$");
        await Execute($"create function {_pg.Schema}.nothing(a jsonb) returns void language plpgsql as $$ begin end $$");
        Assert.Equal("\"hi \\\"7\\\"\"", (await Run(Handler("greet"))).Result);
        var outcome = await Run(Handler("nothing"));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
    }

    [Fact]
    public async Task The_function_commits_its_writes()
    {
        await Execute($"create table {_pg.Schema}.orders (n int)");
        await Execute($"create function {_pg.Schema}.record(a jsonb) returns void language sql as $$ insert into {_pg.Schema}.orders values ((a->>'n')::int) $$");
        Assert.Equal(OutcomeKind.Succeeded, (await Run(Handler("record"))).Kind);
        Assert.Equal(7, await _pg.ScalarAsync<int>("select n from orders"));
    }

    [Fact]
    public async Task Args_are_a_bound_parameter_and_never_sql()
    {
        await Execute($"create table {_pg.Schema}.keep (n int)");
        await Execute($"create function {_pg.Schema}.echo(a jsonb) returns jsonb language sql as $$ select a $$");
        var evil = "{\"x\":\"'); drop table " + _pg.Schema + ".keep; --\"}";
        var outcome = await Run(Handler("echo"), args: evil);
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        Assert.Contains("drop table", outcome.Result);
        Assert.Equal(0L, await _pg.ScalarAsync<long>("select count(*) from keep"));
    }

    [Fact]
    public async Task A_raised_exception_fails_for_good_with_its_sqlstate_and_message()
    {
        await Execute($"create function {_pg.Schema}.refuse(a jsonb) returns int language plpgsql as $$ begin raise exception 'order % is closed', a->>'n' using errcode = 'P0001'; end $$");
        var outcome = await Run(Handler("refuse"));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("sql: P0001: order 7 is closed", outcome.Error);
    }

    [Fact]
    public async Task A_missing_function_fails_for_good()
    {
        var outcome = await Run(Handler("absent"));
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("sql: 42883: ", outcome.Error);
    }

    [Fact]
    public async Task A_serialization_failure_retries()
    {
        await Execute($"create function {_pg.Schema}.conflict(a jsonb) returns int language plpgsql as $$ begin raise exception 'could not serialize access' using errcode = 'serialization_failure'; end $$");
        var outcome = await Run(Handler("conflict"));
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.StartsWith("sql: 40001: ", outcome.Error);
    }

    [Fact]
    public async Task A_real_deadlock_retries()
    {
        await Execute($"create table {_pg.Schema}.acct (id int primary key, v int); insert into {_pg.Schema}.acct values (1, 0), (2, 0)");
        await Execute($"create function {_pg.Schema}.transfer(a jsonb) returns int language sql as $$ update {_pg.Schema}.acct set v = v + 1 where id = 2; update {_pg.Schema}.acct set v = v + 1 where id = 1; select 1 $$");
        var handler = Handler("transfer");
        await using var other = new NpgsqlConnection(_pg.ConnectionString);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var lock1 = new NpgsqlCommand("update acct set v = v + 10 where id = 1", other, tx)) await lock1.ExecuteNonQueryAsync();
        var job = Run(handler);
        // Once the function holds row 2 and waits for row 1, taking row 2 here closes the cycle.
        Assert.Equal(1, await Eventually.ReachesAsync(() => _pg.ScalarAsync<long>(
            $"select count(*) from pg_stat_activity where application_name = '{SqlRoutes.ApplicationName}' and wait_event_type = 'Lock'"), 1, TimeSpan.FromSeconds(20)));
        await using (var lock2 = new NpgsqlCommand("update acct set v = v + 10 where id = 2", other, tx)) await lock2.ExecuteNonQueryAsync();
        var outcome = await job;
        await tx.RollbackAsync();
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.StartsWith("sql: 40P01: ", outcome.Error);
    }

    [Fact]
    public async Task A_backend_terminated_mid_call_retries_57P01_and_the_next_job_gets_a_new_connection()
    {
        await Execute($"create function {_pg.Schema}.slow(a jsonb) returns int language sql as $$ select pg_sleep(30); select 1 $$");
        await Execute($"create function {_pg.Schema}.quick(a jsonb) returns int language sql as $$ select 1 $$");
        _registry = new HandlerRegistry();
        RouteHandlers.Register(_registry, LoadConfig(("JOBD_ROUTE_t1", "sql:" + _pg.Schema + ".slow"),
            ("JOBD_ROUTE_t2", "sql:" + _pg.Schema + ".quick"), ("DATABASE_URL", _pg.Url)));
        Assert.True(_registry.TryGet("t1", out var slow));
        Assert.True(_registry.TryGet("t2", out var quick));
        var job = Run(slow);
        var mine = $"application_name = '{SqlRoutes.ApplicationName}' and state = 'active' and query like '%\"{_pg.Schema}\".\"slow\"%'";
        Assert.Equal(1, await Eventually.ReachesAsync(() => _pg.ScalarAsync<long>($"select count(*) from pg_stat_activity where {mine}"), 1, TimeSpan.FromSeconds(20)));
        Assert.True(await _pg.ScalarAsync<bool>($"select bool_and(pg_terminate_backend(pid)) from pg_stat_activity where {mine}"));
        var outcome = await job;
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.StartsWith("sql: 57P01: ", outcome.Error);
        // The routes share a pool of one: the broken connection is not handed out again.
        var next = await Run(quick);
        Assert.Equal(OutcomeKind.Succeeded, next.Kind);
        Assert.Equal("1", next.Result);
    }

    [Fact]
    public async Task A_unique_violation_fails_for_good_with_23505()
    {
        await Execute($"create table {_pg.Schema}.orders (n int primary key)");
        await Execute($"create function {_pg.Schema}.record(a jsonb) returns void language sql as $$ insert into {_pg.Schema}.orders values ((a->>'n')::int) $$");
        var handler = Handler("record");
        Assert.Equal(OutcomeKind.Succeeded, (await Run(handler)).Kind);
        var outcome = await Run(handler);
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("sql: 23505: duplicate key value violates unique constraint", outcome.Error);
        Assert.Equal(1L, await _pg.ScalarAsync<long>("select count(*) from orders"));
    }

    [Fact]
    public async Task Args_holding_u0000_fail_for_good_with_22P05()
    {
        // Valid JSON, but jsonb has no place for a NUL character: Postgres refuses the parameter, every time.
        await Execute($"create function {_pg.Schema}.echo(a jsonb) returns jsonb language sql as $$ select a $$");
        var outcome = await Run(Handler("echo"), args: "{\"note\":\"a\\u0000b\"}");
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("sql: 22P05: unsupported Unicode escape sequence", outcome.Error);
    }

    [Fact]
    public async Task Search_path_cannot_redirect_the_call_nor_the_names_around_it()
    {
        // The session's search_path (here from DATABASE_URL's options, as a role or pooler could set it) puts a
        // schema with look-alikes first: a function of the route's name, a to_jsonb(text) and a jsonb domain.
        var name = "route_target_" + _pg.Schema;
        await Execute($"create function public.{name}(a pg_catalog.jsonb) returns text language sql as $$ select 'public' $$");
        try
        {
            await Execute($"create function {_pg.Schema}.{name}(a pg_catalog.jsonb) returns text language sql as $$ select 'hijacked' $$");
            await Execute($"create function {_pg.Schema}.to_jsonb(a text) returns pg_catalog.jsonb language sql as $$ select '\"hijacked\"'::pg_catalog.jsonb $$");
            await Execute($"create domain {_pg.Schema}.jsonb as pg_catalog.text check (false)");
            var options = Uri.EscapeDataString($"-c search_path={_pg.Schema},pg_catalog,public");
            _registry = new HandlerRegistry();
            RouteHandlers.Register(_registry, LoadConfig(("JOBD_ROUTE_t1", "sql:" + name), ("DATABASE_URL", _pg.Url + "?options=" + options)));
            Assert.True(_registry.TryGet("t1", out var h));
            var outcome = await Run(h);
            Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
            Assert.Equal("\"public\"", outcome.Result);
        }
        finally
        {
            await Execute($"drop function if exists public.{name}(pg_catalog.jsonb)");
        }
    }

    [Fact]
    public async Task Statement_timeout_follows_the_job_timeout_and_retries()
    {
        await Execute($"create function {_pg.Schema}.slow(a jsonb) returns int language sql as $$ select pg_sleep(30); select 1 $$");
        var outcome = await Run(Handler("slow"), timeoutMs: 1000);
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.Equal("sql: timeout after 1s (statement_timeout)", outcome.Error);
    }

    [Fact]
    public async Task A_result_over_the_limit_is_cut()
    {
        await Execute($"create function {_pg.Schema}.big(a jsonb) returns text language sql as $$ select repeat('y', 5000) $$");
        var outcome = await Run(Handler("big", ("JOBD_MAX_RESULT_BYTES", "1KB")));
        Assert.Equal(OutcomeKind.Succeeded, outcome.Kind);
        // The cut JSON ('"yyy…') is kept as text: its opening quote is escaped as JSON text.
        Assert.Equal("{\"truncated\":true,\"text\":\"\\u0022" + new string('y', 1023) + "\"}", outcome.Result);
    }

    [Fact]
    public async Task Postgres_unreachable_retries()
    {
        var port = FreePort.Next();
        _registry = new HandlerRegistry();
        RouteHandlers.Register(_registry, LoadConfig(("JOBD_ROUTE_t1", "sql:f"), ("DATABASE_URL", $"postgres://u:p@127.0.0.1:{port}/db")));
        Assert.True(_registry.TryGet("t1", out var h));
        var outcome = await Run(h);
        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        Assert.StartsWith("sql: connection: ", outcome.Error);
        Assert.DoesNotContain("u:p", outcome.Error);
    }

    [Fact]
    public async Task Behind_pgbouncer_in_transaction_mode_the_timeout_holds_for_its_job_only()
    {
        await Execute($"create function {_pg.Schema}.timeout_seen(a jsonb) returns text language sql as $$ select current_setting('statement_timeout') $$");
        var cs = new NpgsqlConnectionStringBuilder(_pg.ConnectionString);
        await using var bouncer = await PgBouncer.StartAsync(cs.Host!, cs.Port, cs.Username!);
        var url = $"postgres://{cs.Username}@127.0.0.1:{bouncer.Port}/{cs.Database}?sslmode=disable";
        _registry = new HandlerRegistry();
        RouteHandlers.Register(_registry, LoadConfig(("JOBD_ROUTE_t1", "sql:" + _pg.Schema + ".timeout_seen"), ("DATABASE_URL", url)));
        Assert.True(_registry.TryGet("t1", out var h));
        Assert.Equal("\"1500ms\"", (await Run(h, timeoutMs: 1500)).Result);
        Assert.Equal("\"7s\"", (await Run(h, timeoutMs: 7000)).Result);
        // The setting was transaction-local: the server connection PgBouncer hands out next has none of it.
        await using var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={bouncer.Port};Username={cs.Username};Database={cs.Database};SSL Mode=Disable;No Reset On Close=true");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("show statement_timeout", conn);
        Assert.Equal("0", await cmd.ExecuteScalarAsync());
    }
}
