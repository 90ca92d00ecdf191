using Jobd.Config;
using Jobd.Postgres;
using Npgsql;
using Xunit;

namespace Jobd.Tests.Config;

public sealed class DatabaseSettingsTests
{
    [Fact]
    public void A_render_style_url_is_decoded()
    {
        var s = DatabaseSettings.Parse("postgres://app_user:p%40ss%3Aw0rd@dpg-abc.oregon-postgres.render.com:6543/app_db?sslmode=require");
        Assert.Equal("dpg-abc.oregon-postgres.render.com", s.Get("Host"));
        Assert.Equal("6543", s.Get("Port"));
        Assert.Equal("app_db", s.Get("Database"));
        Assert.Equal("app_user", s.Get("Username"));
        Assert.Equal("p@ss:w0rd", s.Get("Password"));
        Assert.Equal("Require", s.Get("SSL Mode"));
    }

    [Fact]
    public void The_postgresql_scheme_and_a_missing_port_are_accepted()
    {
        var s = DatabaseSettings.Parse("postgresql://u@localhost/db");
        Assert.Equal("localhost", s.Get("Host"));
        Assert.Null(s.Get("Port"));
        Assert.Null(s.Get("Password"));
    }

    [Fact]
    public void Libpq_key_value_pairs_are_accepted()
    {
        var s = DatabaseSettings.Parse("host=db.internal port=5433 dbname=jobs user=jobd password='se cret' sslmode=verify-full application_name=jobd");
        Assert.Equal("db.internal", s.Get("Host"));
        Assert.Equal("5433", s.Get("Port"));
        Assert.Equal("jobs", s.Get("Database"));
        Assert.Equal("VerifyFull", s.Get("SSL Mode"));
        Assert.Equal("jobd", s.Get("Application Name"));
        Assert.Equal("se cret", s.Get("Password"));
    }

    [Fact]
    public void Libpq_quoting_and_escapes_are_honoured()
    {
        var s = DatabaseSettings.Parse(@"host = h  password='it\'s a \\ secret' dbname=d\ b");
        Assert.Equal("h", s.Get("Host"));
        Assert.Equal(@"it's a \ secret", s.Get("Password"));
        Assert.Equal("d b", s.Get("Database"));
        Assert.Throws<ConfigException>(() => DatabaseSettings.Parse("host=h password='unclosed"));
    }

    [Fact]
    public void Npgsql_semicolon_pairs_are_accepted()
    {
        var s = DatabaseSettings.Parse("Host=127.0.0.1;Port=15433;Database=jobd;Username=jobd;Password=x");
        Assert.Equal("15433", s.Get("Port"));
        Assert.Equal("jobd", s.Get("Username"));
    }

    [Fact]
    public void The_redacted_form_never_holds_the_password()
    {
        var s = DatabaseSettings.Parse("postgres://u:CANARY-db-secret@h:5432/d?sslmode=require");
        var r = s.Redacted();
        Assert.DoesNotContain("CANARY", r);
        Assert.Equal("postgres://u:***@h:5432/d?SSL%20Mode=Require", r);
        Assert.Equal(r, s.ToString());
        Assert.Equal("postgres://:***@db/", DatabaseSettings.Parse("host=db password=CANARY").Redacted());
    }

    [Theory]
    [InlineData("mysql://u:CANARY@h/d", "not a postgres:// URL")]
    [InlineData("postgres://u:CANARY@h:99999/d", "port must be")]
    [InlineData("postgres://u:CANARY@[::1/d", "IPv6")]
    [InlineData("host=db user=u password='se;cretCANARY=1' bogus=1", "unknown parameter (the 4th one)")]
    [InlineData("host=db password=se cretCANARY=1", "unknown parameter")]
    [InlineData("postgres://u:CANARY@h/d?sslmode=sometimes", "sslmode")]
    [InlineData("postgres://u:CANARY@h/d?frobnicate=1", "unknown parameter")]
    [InlineData("host=h port=0 password=CANARY", "port must be")]
    [InlineData("dbname=d password=CANARY", "no host")]
    [InlineData("host=h password", "not key=value")]
    public void Bad_database_urls_fail_with_one_line_and_no_secret(string text, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => DatabaseSettings.Parse(text));
        Assert.Equal("DATABASE_URL", e.Variable);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("CANARY", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void An_unencoded_slash_or_at_sign_in_the_password_stays_in_the_password()
    {
        var s = DatabaseSettings.Parse("postgres://admin:5432/abc@db.example.com/app");
        Assert.Equal("admin", s.Get("Username"));
        Assert.Equal("5432/abc", s.Get("Password"));
        Assert.Equal("db.example.com", s.Get("Host"));
        Assert.Equal("app", s.Get("Database"));
        Assert.DoesNotContain("abc", s.Redacted());
        Assert.Equal("p@ss", DatabaseSettings.Parse("postgres://u:p@ss@db/app").Get("Password"));
    }

    [Fact]
    public void A_quoted_libpq_password_may_hold_a_semicolon()
    {
        var s = DatabaseSettings.Parse("host=db user=u password='ab;Timeout=5'");
        Assert.Equal("ab;Timeout=5", s.Get("Password"));
        Assert.Null(s.Get("Timeout"));
        Assert.DoesNotContain("Timeout", s.Redacted());
    }

    [Fact]
    public void Every_libpq_parameter_accepted_reaches_npgsql_as_what_it_means()
    {
        var s = DatabaseSettings.Parse("host=db1,db2 port=5433 dbname=d user=u password=CANARY-pw passfile=/etc/jobd/pgpass " +
            "sslmode=verify-full sslrootcert=/etc/ca.pem sslcert=/etc/c.pem sslkey=/etc/k.pem sslpassword=CANARY-key " +
            "sslnegotiation=postgres channel_binding=require connect_timeout=7 application_name=billing " +
            "options='-c search_path=jobs' client_encoding=UTF8 target_session_attrs=read-write load_balance_hosts=random " +
            "keepalives=1 keepalives_idle=30 keepalives_interval=10");
        using var source = PostgresDataSource.Create(s, PostgresOptions.Default, "jobd:test");
        var b = new NpgsqlConnectionStringBuilder(source.ConnectionString);
        Assert.Equal("/etc/jobd/pgpass", b.Passfile);
        Assert.Equal(SslMode.VerifyFull, b.SslMode);
        Assert.Equal("/etc/ca.pem", b.RootCertificate);
        Assert.Equal("/etc/c.pem", b.SslCertificate);
        Assert.Equal("/etc/k.pem", b.SslKey);
        Assert.Equal(SslNegotiation.Postgres, b.SslNegotiation);
        Assert.Equal(ChannelBinding.Require, b.ChannelBinding);
        Assert.Equal(7, b.Timeout);
        Assert.Equal("billing", b.ApplicationName);
        Assert.Equal("-c search_path=jobs", b.Options);
        Assert.Equal("UTF8", b.ClientEncoding);
        Assert.IsNotType<NpgsqlMultiHostDataSource>(source); // a wrapper bound to read-write servers
        Assert.True(b.LoadBalanceHosts);
        Assert.True(b.TcpKeepAlive);
        Assert.Equal(30, b.TcpKeepAliveTime);
        Assert.Equal(10, b.TcpKeepAliveInterval);
        // Both secrets stay out of what jobd prints.
        Assert.DoesNotContain("CANARY", s.Redacted());
        Assert.Contains("SSL%20Password=***", s.Redacted());
    }

    [Fact]
    public void Url_parameters_use_the_same_names_and_values()
    {
        var s = DatabaseSettings.Parse("postgres://u@h1:5432,h2:5433/d?sslmode=disable&keepalives=0&load_balance_hosts=disable&connect_timeout=0&target_session_attrs=prefer-standby");
        Assert.Equal("Disable", s.Get("SSL Mode"));
        Assert.Equal("false", s.Get("Tcp Keepalive"));
        Assert.Equal("false", s.Get("Load Balance Hosts"));
        Assert.Equal("0", s.Get("Timeout"));
        using var source = PostgresDataSource.Create(s, PostgresOptions.Default, "jobd:test");
        Assert.Equal("h1:5432,h2", new NpgsqlConnectionStringBuilder(source.ConnectionString).Host);
    }

    [Theory]
    [InlineData("host=h password=CANARY keepalives_count=3", "unknown parameter")]
    [InlineData("host=h password=CANARY tcp_user_timeout=1000", "unknown parameter")]
    [InlineData("host=h password=CANARY gssencmode=disable", "unknown parameter")]
    [InlineData("host=h password=CANARY keepalives=2", "keepalives \"2\" is not one of")]
    [InlineData("host=h password=CANARY keepalives_interval=5", "keepalives_interval needs keepalives_idle")]
    [InlineData("host=h password=CANARY connect_timeout=soon", "connect_timeout")]
    [InlineData("host=h password=CANARY connect_timeout=5000", "from 0 to 1024")]
    [InlineData("host=h password=CANARY channel_binding=maybe", "channel_binding")]
    [InlineData("host=h1,h2 password=CANARY target_session_attrs=primary-ish", "target_session_attrs")]
    [InlineData("host=h password=CANARY target_session_attrs=read-write", "needs several hosts")]
    public void Parameters_npgsql_would_not_honour_are_refused_with_one_line(string text, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => DatabaseSettings.Parse(text));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("CANARY", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_server_named_in_log_lines_is_host_and_port()
    {
        Assert.Equal("db.internal:5432", DatabaseSettings.Parse("postgres://u:CANARY@db.internal/app").Server);
        Assert.Equal("[::1]:6543", DatabaseSettings.Parse("postgres://u@[::1]:6543/app").Server);
        Assert.Equal("/run/postgresql", DatabaseSettings.Parse("postgres:///app?host=/run/postgresql").Server);
        Assert.Equal("h1:5432,h2:5433", DatabaseSettings.Parse("postgres://u@h1:5432,h2:5433/app").Server);
    }

    [Fact]
    public void A_unix_socket_url_names_its_directory_in_the_query()
    {
        var s = DatabaseSettings.Parse("postgres:///app?host=/var/run/postgresql");
        Assert.Equal("/var/run/postgresql", s.Get("Host"));
        Assert.Equal("app", s.Get("Database"));
        Assert.Equal("postgres:///app?Host=%2Fvar%2Frun%2Fpostgresql", s.Redacted());
    }
}
