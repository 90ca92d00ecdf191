// A throwaway PKI made with the openssl CLI in a temp folder: a test CA, a server certificate it signed for
// DNS:localhost only, and an unrelated CA that must not be trusted for it; on demand, a CA and a server certificate
// of it that expired ten days ago (made with .NET: openssl 3.0's x509 cannot back-date).
using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;

namespace Jobd.Testing;

public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string dir) => Dir = dir;

    public string Dir { get; }
    public string CaFile => Path.Combine(Dir, "ca.crt");
    public string OtherCaFile => Path.Combine(Dir, "other-ca.crt");
    public string ServerCert => Path.Combine(Dir, "server.crt");
    public string ServerKey => Path.Combine(Dir, "server.key");

    public string ExpiredCaFile => Path.Combine(Dir, "expired-ca.crt");
    public string ExpiredServerCert => Path.Combine(Dir, "expired.crt");
    public string ExpiredServerKey => Path.Combine(Dir, "expired.key");

    /// <summary>Writes ExpiredCaFile (valid now) and ExpiredServerCert/Key (DNS:localhost, expired ten days ago).</summary>
    public void WriteExpired()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=jobd test CA of an expired certificate", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-30), now.AddDays(30));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        using var expired = request.Create(ca, now.AddDays(-20), now.AddDays(-10), new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        File.WriteAllText(ExpiredCaFile, ca.ExportCertificatePem());
        File.WriteAllText(ExpiredServerCert, expired.ExportCertificatePem());
        File.WriteAllText(ExpiredServerKey, key.ExportPkcs8PrivateKeyPem());
    }

    public static async Task<TestCertificates> CreateAsync()
    {
        var certs = new TestCertificates(Directory.CreateTempSubdirectory("jobd-tls-").FullName);
        await certs.CaAsync("ca", "jobd test CA");
        await certs.CaAsync("other-ca", "someone else's CA");
        await File.WriteAllTextAsync(Path.Combine(certs.Dir, "server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
        await certs.OpenSslAsync("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        await certs.OpenSslAsync("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
        return certs;
    }

    private Task CaAsync(string name, string subject) =>
        OpenSslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
            "-subj", "/CN=" + subject, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");

    private async Task OpenSslAsync(params string[] args)
    {
        await using var openssl = ChildProcess.Start(ServerBinaries.Find("openssl", "install openssl"), args, workingDirectory: Dir);
        int exit = await openssl.WaitForExitAsync(TimeSpan.FromSeconds(60));
        if (exit != 0)
            throw new InvalidOperationException($"openssl {string.Join(' ', args)} exited {exit}: {string.Join(" | ", openssl.Stderr.Snapshot())}");
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
    }
}
