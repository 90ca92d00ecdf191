using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;
using Jobd.Runtime;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Runtime;

/// <summary>
/// The marker key against a real Redis: written once, silent while it stays, one error per worker when it goes
/// (a restart without persistence is tested end to end: RedisLossFaultTests R2).
/// </summary>
public sealed class RedisResetDetectorTests
{
    private static readonly QueueKeys Keys = new("jobd");

    private sealed class Worker : IAsyncDisposable
    {
        private readonly MemoryStream _out = new();
        public readonly Log Log;
        public readonly RedisClient Redis;
        public readonly RedisResetDetector Detector;

        public Worker(RedisTestDatabase db)
        {
            Log = new Log(_out, LogFormat.Text, LogLevel.Info, TimeProvider.System);
            Redis = new RedisClient(ConfigLoader.Load(new System.Collections.Generic.Dictionary<string, string> { ["REDIS_URL"] = db.Url }).Redis);
            Detector = new RedisResetDetector(Keys, Log);
        }

        public async Task<string> CheckAsync()
        {
            Detector.Reconnected();
            await Detector.CheckIfDueAsync(Redis, CancellationToken.None);
            Assert.True(Log.Flush(TimeSpan.FromSeconds(5)));
            return Encoding.UTF8.GetString(_out.ToArray());
        }

        public ValueTask DisposeAsync() => Redis.DisposeAsync();
    }

    [Fact]
    public async Task A_flushed_database_is_reported_once_by_each_worker_and_the_marker_is_written_again()
    {
        using var db = await TestRedis.LeaseAsync();
        await using var a = new Worker(db);
        await using var b = new Worker(db);
        Assert.Contains("wrote the marker key {jobd}:marker", await a.CheckAsync());
        Assert.DoesNotContain("marker", await b.CheckAsync()); // found it: nothing to say
        Assert.DoesNotContain("lost", await a.CheckAsync());

        using (var p = db.Probe()) p.Call("FLUSHDB");
        var first = await a.CheckAsync();
        Assert.Contains("error redis lost jobd's data: the marker key {jobd}:marker is gone though Redis did not restart (FLUSHDB, FLUSHALL or deleted keys)", first);
        // b finds the marker that a wrote again: replaced, so lost for b too.
        Assert.Contains("redis lost jobd's data", await b.CheckAsync());
        // Once each: later checks are quiet.
        Assert.Equal(1, Count(await a.CheckAsync(), "lost jobd's data"));
        Assert.Equal(1, Count(await b.CheckAsync(), "lost jobd's data"));
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
