using System;
using System.Globalization;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md R14: `jobd run` with rediss:// against a real TLS redis-server (the test CA of Jobd.Testing),
/// through a fault proxy that records the first bytes of every connection. With the right CA the jobs run; a wrong
/// CA, a host name the certificate does not carry and an expired certificate each give one clear line, and every
/// connection attempt, however many, opens with a TLS handshake record (0x16): never plaintext.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private TestCertificates _certs = null!;

    public async Task InitializeAsync()
    {
        _certs = await TestCertificates.CreateAsync();
        _certs.WriteExpired();
    }

    public Task DisposeAsync()
    {
        _certs.Dispose();
        return Task.CompletedTask;
    }

    private static string[] TlsArgs(int port, string cert, string key, string ca) =>
        new[] { "--tls-port", port.ToString(CultureInfo.InvariantCulture), "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no" };

    private static string Url(string host, int port) => $"rediss://default:{FaultRun.Canary}@{host}:{port}/0";

    /// <summary>The table is a document: no port or temporary path that changes from run to run.</summary>
    private string Stable(string text, int port) =>
        text.Replace(":" + port.ToString(CultureInfo.InvariantCulture), ":PORT", StringComparison.Ordinal).Replace(_certs.Dir, "…", StringComparison.Ordinal);

    private static void AllTls(FaultProxy proxy)
    {
        foreach (var first in proxy.FirstClientBytes.Snapshot())
            Assert.True(first[0] == 0x16, $"a connection opened with 0x{first[0]:x2}, not a TLS handshake record");
    }

    [Fact]
    public async Task R14_rediss_with_the_ca_file_runs_jobs_and_never_speaks_plaintext()
    {
        int tlsPort = FreePort.Next();
        await using var run = await FaultRun.StartAsync("R14", 0, TlsArgs(tlsPort, _certs.ServerCert, _certs.ServerKey, _certs.CaFile));
        await using var proxy = new FaultProxy(run.Redis.Host, tlsPort);
        var tls = new[] { ("REDIS_URL", Url("localhost", proxy.Port)), ("JOBD_REDIS_CA_FILE", _certs.CaFile) };
        await run.EnqueueAsync(300, i => (i % 3, i % 15 == 0 ? 2 : 0));
        await run.StartWorkerAsync(tls);
        await run.StartWorkerAsync(tls);
        await run.DrainAsync(TimeSpan.FromSeconds(60));
        await run.CheckAsync();
        Assert.True(proxy.FirstClientBytes.Snapshot().Count >= 4, "the workers' connections went through the proxy");
        AllTls(proxy);
        FaultTable.Record("R14", "rediss://localhost with JOBD_REDIS_CA_FILE (test CA), two workers, 300 jobs with retries",
            $"verified chain and host name; all jobs ran; each of {proxy.FirstClientBytes.Snapshot().Count} connections opened with a TLS record", "I1–I5 hold");
    }

    [Theory]
    [InlineData("S-tls-wrong-ca")]
    [InlineData("S-tls-wrong-host")]
    [InlineData("S-tls-expired")]
    public async Task R14_a_certificate_that_fails_verification_is_one_clear_line_and_no_plaintext(string row)
    {
        bool expired = row == "S-tls-expired";
        int tlsPort = FreePort.Next();
        await using var redis = await RedisServer.StartAsync(expired
            ? TlsArgs(tlsPort, _certs.ExpiredServerCert, _certs.ExpiredServerKey, _certs.ExpiredCaFile)
            : TlsArgs(tlsPort, _certs.ServerCert, _certs.ServerKey, _certs.CaFile));
        await using var proxy = new FaultProxy(redis.Host, tlsPort);
        var (host, ca, expected) = row switch
        {
            "S-tls-wrong-ca" => ("localhost", _certs.OtherCaFile, $"the server's certificate is not signed by the CA in {_certs.OtherCaFile}"),
            "S-tls-wrong-host" => ("127.0.0.1", _certs.CaFile, "the server's certificate does not name 127.0.0.1"),
            _ => ("localhost", _certs.ExpiredCaFile, "the server's certificate has expired or is not valid yet"),
        };
        await using var w = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", Url(host, proxy.Port)), ("JOBD_REDIS_CA_FILE", ca)));
        var line = await w.Stderr.WaitAsync(l => l.Contains("redis down:", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the redis down line");
        // Let it retry a few times (backoff from 100 ms): still one line, and every attempt is TLS again.
        await Eventually.ReachesAsync(() => Task.FromResult((long)proxy.FirstClientBytes.Snapshot().Count), 3, TimeSpan.FromSeconds(30));
        w.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await w.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains($"TLS handshake with {host}:{proxy.Port} failed: {expected}", line);
        Assert.Contains("jobd never falls back to plaintext", line);
        var err = w.Stderr.Snapshot();
        Assert.Single(err, l => l.Contains("redis down:", StringComparison.Ordinal));
        Assert.DoesNotContain(err, l => l.Contains("redis up", StringComparison.Ordinal) || l.Contains("ready: queues", StringComparison.Ordinal));
        Assert.DoesNotContain(err, l => l.Contains(FaultRun.Canary, StringComparison.Ordinal));
        AllTls(proxy);
        FaultTable.Record(row, row switch
            {
                "S-tls-wrong-ca" => "rediss:// with JOBD_REDIS_CA_FILE naming another CA",
                "S-tls-wrong-host" => "rediss://127.0.0.1 to a certificate for DNS:localhost",
                _ => "rediss:// to a certificate that expired 10 days ago (its CA trusted)",
            },
            $"one line '{Stable(line[(line.IndexOf("redis down: ", StringComparison.Ordinal) + 12)..], proxy.Port)}', then backoff: {proxy.FirstClientBytes.Snapshot().Count} attempts, each a TLS ClientHello; never ready, exit 0 on SIGTERM",
            "no plaintext fallback; I4 one line");
    }
}
