using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>A real HTTP/1.1 server (HttpListener) on a free port; each request is answered by <see cref="Respond"/>.</summary>
public sealed class TestHttpServer : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, Dictionary<string, string> Headers, byte[] Body);

    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    public TestHttpServer(Func<Request, HttpListenerResponse, Task> respond)
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add("http://127.0.0.1:" + Port + "/");
        _listener.Start();
        Respond = respond;
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Url(string path) => "http://127.0.0.1:" + Port + path;
    public Func<Request, HttpListenerResponse, Task> Respond { get; set; }
    public TestSignal<Request> Received { get; } = new();

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(async () =>
            {
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (string? k in ctx.Request.Headers.AllKeys) if (k is not null) headers[k] = ctx.Request.Headers[k]!;
                using var ms = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(ms);
                var req = new Request(ctx.Request.HttpMethod, ctx.Request.RawUrl ?? "", headers, ms.ToArray());
                Received.Announce(req);
                try
                {
                    await Respond(req, ctx.Response);
                    ctx.Response.Close();
                }
                catch (Exception)
                {
                    try { ctx.Response.Abort(); } catch (Exception) { }
                }
            });
        }
    }

    public static async Task Write(HttpListenerResponse r, int status, string body, params (string, string)[] headers)
    {
        r.StatusCode = status;
        foreach (var (k, v) in headers) r.Headers[k] = v;
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        r.ContentLength64 = bytes.Length;
        await r.OutputStream.WriteAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        // Close alone: after Stop, Close unregisters the prefix again, and the managed listener binds the port anew
        // to do it ("Address already in use" once a parallel test holds that port).
        _listener.Close();
        try { await _loop; } catch (Exception) { }
    }
}
