using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Handlers;
using Jobd.Handlers.Http;
using Jobd.Testing;
using Xunit;
using static Jobd.Tests.Handlers.HandlerTestJobs;

namespace Jobd.Tests.Handlers;

/// <summary>
/// The receiver snippets of docs/handlers.md, taken from the document as written, verify a request that the http
/// handler really sent to a real server: with the current secret, the next one, a wrong one, and a changed body;
/// and hostile headers, which must make them return false, never raise.
/// </summary>
public sealed class SignatureSnippetTests : IDisposable
{
    private const string Secret = "snippet-secret-0123456789";
    private const string Next = "snippet-next-secret-0123456789";
    private const string Wrong = "not-the-secret-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("jobd-sig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string PythonHarness = """

        import sys
        sig = open(sys.argv[1]).read()
        body = open(sys.argv[2], "rb").read()
        s, n, w = (a.encode() for a in sys.argv[3:6])
        for secrets, b in (([s], body), ([n], body), ([w], body), ([s], body + b" "), ([w, n], body)):
            print("valid" if jobd_verify(secrets, sig, b) else "invalid")
        print("valid" if jobd_verify([s], "t=1000000000," + sig.split(",", 1)[1], body) else "invalid")
        t_field, h = sig.split(",")[0], sig.split(",")[1]
        for header in (t_field + ",v1=" + "\u00e9" * 64, t_field + ",v1=" + "\u00e9" * 32, "t=" + "\u00b2" * 10 + "," + h,
                       "t=" + "9" * 5000 + "," + h, "garbage", "", t_field + "," + h[:-1] + "\ud800", None):
            print("valid" if jobd_verify([s], header, body) else "invalid")
        """;

    private const string NodeHarness = """

        const fs = require("fs");
        const [sigFile, bodyFile, s, n, w] = process.argv.slice(2);
        const sig = fs.readFileSync(sigFile, "utf8");
        const body = fs.readFileSync(bodyFile);
        for (const [secrets, b] of [[[s], body], [[n], body], [[w], body], [[s], Buffer.concat([body, Buffer.from(" ")])], [[w, n], body]])
          console.log(jobdVerify(secrets, sig, b) ? "valid" : "invalid");
        console.log(jobdVerify([s], "t=1000000000," + sig.slice(sig.indexOf(",") + 1), body) ? "valid" : "invalid");
        const [tField, h] = sig.split(",");
        for (const header of [tField + ",v1=" + "\u00e9".repeat(64), tField + ",v1=" + "\u00e9".repeat(32), "t=" + "\u00b2".repeat(10) + "," + h,
                              "t=" + "9".repeat(5000) + "," + h, "garbage", "", tField + "," + h.slice(0, -1) + "\ud800", undefined])
          console.log(jobdVerify([s], header, body) ? "valid" : "invalid");
        """;

    [Theory]
    [InlineData("python", "python3", "snippet.py", PythonHarness)]
    [InlineData("js", "node", "snippet.js", NodeHarness)]
    public async Task The_documented_receiver_verifies_a_real_request(string language, string interpreter, string file, string harness)
    {
        await using var server = new TestHttpServer((_, r) => TestHttpServer.Write(r, 204, ""));
        var table = Routes(("JOBD_ROUTE_t1", "http:" + server.Url("/hook")), ("JOBD_HTTP_SECRET", Secret), ("JOBD_HTTP_SECRET_NEXT", Next));
        var handler = new HttpRouteHandler(HttpRouteHandler.CreateClient(), table.ByType[0].Route, table, "test");
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            Assert.Equal(OutcomeKind.Succeeded, (await handler.RunAsync(Job(args: "{\"order\":42,\"note\":\"caf\\u00e9 ☕\"}"), cts.Token)).Kind);
        var request = Assert.Single(server.Received.Snapshot());

        var sigFile = Path.Combine(_dir, "sig");
        var bodyFile = Path.Combine(_dir, "body");
        File.WriteAllText(sigFile, request.Headers[HttpSignature.Header]);
        File.WriteAllBytes(bodyFile, request.Body);
        var script = Path.Combine(_dir, file);
        File.WriteAllText(script, Snippet(language) + harness);

        var psi = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, sigFile, bodyFile, Secret, Next, Wrong }) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException(interpreter + " is needed on PATH to check the documented " + language + " snippet");
        }
        using (p)
        {
            var stdout = await p.StandardOutput.ReadToEndAsync();
            var stderr = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, stderr);
            // Then the hostile headers: a v1 of 64 non-ASCII characters (as long as a real one in characters, twice
            // in bytes), one of 32 (as long in bytes), non-ASCII digits in t, a 5,000-digit t, no fields, nothing,
            // a lone surrogate, no header at all: each is invalid, none raises.
            Assert.Equal("valid\nvalid\ninvalid\ninvalid\nvalid\ninvalid\n" + new System.Text.StringBuilder().Insert(0, "invalid\n", 8), stdout);
        }
    }

    /// <summary>The first ```language block of docs/handlers.md.</summary>
    private static string Snippet(string language)
    {
        var doc = File.ReadAllText(RepoPaths.File("docs", "handlers.md"));
        var open = "```" + language + "\n";
        int start = doc.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, "no " + language + " block in docs/handlers.md");
        start += open.Length;
        int end = doc.IndexOf("```", start, StringComparison.Ordinal);
        return doc[start..end];
    }
}
