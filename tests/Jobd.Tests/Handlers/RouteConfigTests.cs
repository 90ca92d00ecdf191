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
    [InlineData("JOBD_ROUTE_noop", "http:https://h/x")]
    [InlineData("JOBD_ROUTE_a/b", "http:https://h/x")]
    public void Bad_routes_are_refused_with_one_line(string name, string value)
    {
        var e = Assert.Throws<ConfigException>(() => LoadConfig((name, value), ("DATABASE_URL", "postgres://u:p@localhost/db")));
        Assert.DoesNotContain('\n', e.Message);
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
