// rediss:// against a redis-server with --tls-port and a test CA: verified with the CA file, refused without it,
// refused for another CA or a name the certificate does not carry, accepted only by the explicit opt-out.
using System;
using System.Threading.Tasks;
using Jobd.Resp;
using Jobd.Testing;
using Xunit;

namespace Jobd.Resp.Tests;

/// <summary>One PKI and one TLS redis-server for the class: generating RSA keys is the slow part.</summary>
public sealed class TlsRedisFixture : IAsyncLifetime
{
    public TestCertificates Certs { get; private set; } = null!;
    public RedisServer Server { get; private set; } = null!;
    public int TlsPort { get; private set; }

    public async Task InitializeAsync()
    {
        Certs = await TestCertificates.CreateAsync();
        TlsPort = FreePort.Next();
        Server = await RedisServer.StartAsync("--tls-port", TlsPort.ToString(), "--tls-cert-file", Certs.ServerCert,
            "--tls-key-file", Certs.ServerKey, "--tls-ca-cert-file", Certs.CaFile, "--tls-auth-clients", "no");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Certs.Dispose();
    }
}

public sealed class RedisTlsTests(TlsRedisFixture tls) : IClassFixture<TlsRedisFixture>
{
    private readonly TestCertificates _certs = tls.Certs;
    private readonly RedisServer _server = tls.Server;
    private readonly int _tlsPort = tls.TlsPort;

    private RedisOptions Tls(string host = "localhost") => new() { Host = host, Port = _tlsPort, UseTls = true, Database = 2 };

    [Fact]
    public async Task VerifiedWithTheCaFile()
    {
        await using var c = await RedisConnection.ConnectAsync(Tls() with { CaFile = _certs.CaFile });
        var value = new byte[256 * 1024];
        new Random(3).NextBytes(value);
        using var b = new RedisBatch();
        Assert.True((await c.ExecuteAsync(b.Clear().Begin(3).Arg("SET").Arg("k"u8).Arg(value))).IsOk);
        var back = await c.ExecuteAsync(b.Clear().Begin(2).Arg("GET").Arg("k"u8));
        Assert.Equal(value, back.Bytes);
        using var probe = _server.Probe(2);
        Assert.Equal(value.Length, (long)probe.Call("STRLEN", "k")!);
    }

    [Fact]
    public async Task RefusedWithoutTheCa()
    {
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(Tls()));
        Assert.Contains("TLS handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedForAnotherCa()
    {
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(Tls() with { CaFile = _certs.OtherCaFile }));
        Assert.Contains("TLS handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedForANameTheCertificateDoesNotCarry()
    {
        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(Tls("127.0.0.1") with { CaFile = _certs.CaFile }));
    }

    [Fact]
    public async Task AMissingCaFileIsAClearError()
    {
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(Tls() with { CaFile = "/nonexistent/ca.pem" }));
        Assert.Contains("/nonexistent/ca.pem", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOptOutConnectsAndSaysSoWhenUp()
    {
        var states = new TestSignal<string>();
        await using var client = new RedisClient(Tls("127.0.0.1") with { TlsInsecure = true }, (s, reason) => states.Announce(s + ": " + reason));
        Assert.Equal("PONG", TestConnections.Text(await client.PingAsync()));
        var up = Assert.Single(states.Snapshot());
        Assert.Contains("verification is DISABLED", up, StringComparison.Ordinal);
    }
}
