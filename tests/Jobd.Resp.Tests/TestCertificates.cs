// A throwaway PKI made with the openssl CLI in a temp folder: a test CA, a server certificate it signed for
// DNS:localhost only, and an unrelated CA that must not be trusted for it.
using System;
using System.IO;
using System.Threading.Tasks;
using Jobd.Testing;

namespace Jobd.Resp.Tests;

public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string dir) => Dir = dir;

    public string Dir { get; }
    public string CaFile => Path.Combine(Dir, "ca.crt");
    public string OtherCaFile => Path.Combine(Dir, "other-ca.crt");
    public string ServerCert => Path.Combine(Dir, "server.crt");
    public string ServerKey => Path.Combine(Dir, "server.key");

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
