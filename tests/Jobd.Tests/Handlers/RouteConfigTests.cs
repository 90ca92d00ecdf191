using Jobd.Config;
using Jobd.Handlers.Routes;
using Xunit;
using static Jobd.Tests.Handlers.HandlerTestJobs;

namespace Jobd.Tests.Handlers;

public sealed class RouteConfigTests
{
    [Fact]
    public void Routes_of_each_kind_are_parsed()
    {
        var t = Routes(("JOBD_ROUTE_a", "http:https://h.example/x"), ("JOBD_ROUTE_b", "exec:/bin/prog 'one two' \"th\\\"ree\" f\\ our"),
            ("JOBD_ROUTE_c", "sql:app.handle_job"), ("DATABASE_URL", "postgres://u:p@localhost/db"));
        Assert.Equal(3, t.ByType.Count);
        Assert.Equal(RouteKind.Http, t.ByType[0].Route.Kind);
        Assert.Equal(new[] { "/bin/prog", "one two", "th\"ree", "f our" }, t.ByType[1].Route.Argv);
        Assert.Equal("\"app\".\"handle_job\"", t.ByType[2].Route.QuotedFunction);
    }

    [Theory]
    [InlineData("JOBD_ROUTE_a", "ftp:x")]
    [InlineData("JOBD_ROUTE_a", "http:not a url")]
    [InlineData("JOBD_ROUTE_a", "http:file:///etc/passwd")]
    [InlineData("JOBD_ROUTE_a", "http:https://h/{type}")]
    [InlineData("JOBD_DEFAULT_ROUTE", "http:https://{type}.example/x")]
    [InlineData("JOBD_ROUTE_a", "exec:'unterminated")]
    [InlineData("JOBD_ROUTE_a", "exec:")]
    [InlineData("JOBD_ROUTE_a", "sql:f\"; drop table x; --")]
    [InlineData("JOBD_ROUTE_a", "sql:a.b.c")]
    [InlineData("JOBD_ROUTE_a", "sql:1abc")]
    [InlineData("JOBD_ROUTE_a", "exec:bin/prog")]
    [InlineData("JOBD_ROUTE_a", "exec:resize --quality 80")]
    [InlineData("JOBD_ROUTE_a", "exec:./prog")]
    [InlineData("JOBD_EXEC_DIR", "/no/such/directory")]
    [InlineData("JOBD_ROUTE_a/b", "http:https://h/x")]
    public void Bad_routes_are_refused_with_one_line(string name, string value)
    {
        var e = Assert.Throws<ConfigException>(() => LoadConfig((name, value), ("DATABASE_URL", "postgres://u:p@localhost/db")));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_relative_program_is_refused_naming_the_variable()
    {
        var e = Assert.Throws<ConfigException>(() => LoadConfig(("JOBD_ROUTE_resize", "exec:resize --quality 80")));
        Assert.Equal("JOBD_ROUTE_resize: exec: the program \"resize\" is not an absolute path; expected exec:/path/to/program [args…]", e.Message);
    }

    [Fact]
    public void An_unqualified_function_is_called_in_public()
    {
        var t = Routes(("JOBD_ROUTE_a", "sql:handle_job"), ("JOBD_ROUTE_b", "sql:Billing.Close"), ("DATABASE_URL", "postgres://u:p@localhost/db"));
        Assert.Equal("\"public\".\"handle_job\"", t.ByType[0].Route.QuotedFunction);
        Assert.Equal("\"Billing\".\"Close\"", t.ByType[1].Route.QuotedFunction);
        Assert.Equal("sql:handle_job", t.ByType[0].Route.Text);
    }

    private sealed class MyHandler : Jobd.Handlers.IJobHandler
    {
        public System.Threading.Tasks.ValueTask<Jobd.Handlers.JobOutcome> RunAsync(Jobd.Queue.RunningJob job, System.Threading.CancellationToken cancellationToken) =>
            System.Threading.Tasks.ValueTask.FromResult(Jobd.Handlers.JobOutcome.Success());
    }

    /// <summary>As JobdMain builds it: the built-ins, ledger, and a handler the host program registered.</summary>
    private static Jobd.Handlers.HandlerRegistry CompiledIn() => Jobd.Handlers.HandlerRegistry.WithBuiltIns()
        .Register("ledger", new Jobd.Handlers.LedgerHandler(null))
        .Register("my_own", new MyHandler());

    [Theory]
    [InlineData("noop")]
    [InlineData("ledger")]
    [InlineData("my_own")]
    public void A_route_for_a_registered_handler_is_refused_before_any_route_handler_exists(string type)
    {
        var config = LoadConfig(("JOBD_ROUTE_" + type, "exec:/bin/true"), ("JOBD_ROUTE_zz", "exec:/bin/true"));
        var registry = CompiledIn();
        var e = Assert.Throws<ConfigException>(() => RouteHandlers.Register(registry, config));
        Assert.Equal("JOBD_ROUTE_" + type + ": " + type + " is a compiled-in handler and cannot also be routed; choose another type name or drop the route", e.Message);
        Assert.False(registry.Contains("zz"));
    }

    [Fact]
    public void A_route_beside_registered_handlers_is_registered()
    {
        var registry = CompiledIn();
        RouteHandlers.Register(registry, LoadConfig(("JOBD_ROUTE_ledger2", "exec:/bin/true")));
        Assert.True(registry.TryGet("ledger2", out var h));
        Assert.IsType<Jobd.Handlers.Exec.ExecRouteHandler>(h);
    }

    [Fact]
    public void A_sql_route_needs_database_url()
    {
        var e = Assert.Throws<ConfigException>(() => LoadConfig(("JOBD_ROUTE_a", "sql:f")));
        Assert.StartsWith("DATABASE_URL:", e.Message);
    }

    [Fact]
    public void A_host_outside_the_allowlist_is_refused()
    {
        Assert.Throws<ConfigException>(() => LoadConfig(("JOBD_ROUTE_a", "http:https://evil.example/x"), ("JOBD_HTTP_ALLOW", "app.internal")));
        Assert.Single(Routes(("JOBD_ROUTE_a", "http:https://APP.internal/x"), ("JOBD_HTTP_ALLOW", "app.internal")).ByType);
    }

    [Fact]
    public void Secrets_are_printed_as_set_never_their_value()
    {
        var env = new System.Collections.Generic.Dictionary<string, string> { ["JOBD_HTTP_SECRET"] = "a-very-secret-value-123" };
        var c = ConfigLoader.Load(env);
        foreach (var (name, value, _) in ConfigPrinter.Effective(c, env))
            if (name == "JOBD_HTTP_SECRET") Assert.Equal("(set)", value);
            else Assert.DoesNotContain("a-very-secret", value ?? "");
    }

    [Fact]
    public void The_default_route_serves_unregistered_types()
    {
        var config = LoadConfig(("JOBD_DEFAULT_ROUTE", "exec:/bin/true"));
        var registry = Jobd.Handlers.HandlerRegistry.WithBuiltIns();
        RouteHandlers.Register(registry, config);
        Assert.True(registry.TryGet("anything", out var h));
        Assert.IsType<Jobd.Handlers.Exec.ExecRouteHandler>(h);
        Assert.True(registry.TryGet("noop", out var n));
        Assert.IsType<Jobd.Handlers.NoopHandler>(n);
    }
}
