using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Handlers;
using Jobd.Ops;
using Jobd.Queue;
using Jobd.Resp;
using Jobd.Runtime;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Runtime;

/// <summary>
/// The watchdog's purpose: a loop stuck past the bound it announced (here a handler that ignores cancellation, so
/// the job's timeout cannot end it) stops the WATCHDOG=1 pings, and systemd would kill the process. The real
/// daemon, Redis and datagram socket; only the handler is the test's, as a compiled-in handler would be.
/// </summary>
public sealed class WatchdogStuckLoopTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task A_handler_stuck_past_its_timeout_stops_the_pings_until_it_returns()
    {
        using var db = await TestRedis.LeaseAsync();
        var config = ConfigLoader.Load(new Dictionary<string, string>
        {
            ["REDIS_URL"] = db.Url,
            ["JOBD_MAX_JOBS"] = "1", // the daemon recycles after the stuck job: the test's way to end it
            ["JOBD_LOG_JOBS"] = "1",
            // The stuck-handler exit would end the test host itself: far beyond the few seconds this test holds it.
            ["JOBD_CANCEL_GRACE"] = "10m",
        });
        var lines = new LineStream();
        var log = new Log(lines, LogFormat.Text, LogLevel.Info, TimeProvider.System);
        await using var listener = new NotifySocketListener();
        using var notifier = new SystemdNotifier(listener.SocketPath);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlers = HandlerRegistry.WithBuiltIns().Register("stuck", new IgnoresCancellation(release.Task));
        using var signals = new ShutdownSignals();
        var daemon = new Daemon(config, log, notifier, WorkerIdentity.ForThisProcess(), handlers) { WatchdogInterval = Interval };
        var run = daemon.RunAsync(signals);

        await listener.Lines.WaitAsync(l => l == "WATCHDOG=1", Wait, "the first ping");
        await using (var redis = new RedisClient(config.Redis))
            await new JobProducer(redis, config.Keys).EnqueueAsync(new EnqueueRequest { Type = "stuck", Timeout = TimeSpan.FromSeconds(1) });
        await lines.Lines.WaitAsync(l => l.Contains("stuck started", StringComparison.Ordinal), Wait, "the job to start");
        int pingsWhileWithinBound = Count(listener);

        // Bound: the 1 s timeout, plus one interval of slack; then the feeder says so once and stops pinging.
        await lines.Lines.WaitAsync(l => l.Contains("the execution loop is past its deadline (job", StringComparison.Ordinal), Wait, "the starving line");
        int atStarving = Count(listener);
        Assert.True(atStarving > pingsWhileWithinBound, "pings continue while the job is within its timeout");
        await Task.Delay(Interval * 5);
        Assert.Equal(atStarving, Count(listener));

        release.SetResult();
        await lines.Lines.WaitAsync(l => l.Contains("recycling", StringComparison.Ordinal), Wait, "the daemon to finish the job and recycle");
        Assert.Equal(75, await run.WaitAsync(Wait));
        Assert.Single(lines.Lines.Snapshot(), l => l.Contains("past its deadline", StringComparison.Ordinal));
    }

    /// <summary>
    /// A Redis outage feeds the watchdog only while the loop's connection keeps trying: each reconnect attempt
    /// renews the loop's bound. Here the backoff clock of that connection is frozen, so after its first failed
    /// attempt the loop waits inside the reconnect for ever (as a reconnect that hangs would): the bound runs out
    /// and the pings stop, though the connection is down. With the clock running again, and Redis back, the
    /// loop reconnects and the pings resume. (With a running clock an outage keeps the pings going: the binary's
    /// SystemdNotifyTests.The_watchdog_is_fed_through_a_redis_outage.)
    /// </summary>
    [Fact]
    public async Task A_reconnect_that_stops_trying_stops_the_pings_until_it_tries_again()
    {
        await using var server = await RedisServer.StartAsync();
        var config = ConfigLoader.Load(new Dictionary<string, string>
        {
            ["REDIS_URL"] = server.Url(),
            ["JOBD_REDIS_CONNECT_TIMEOUT"] = "500ms",
            ["JOBD_MAX_JOBS"] = "1", // a job after the recovery recycles the daemon: the test's way to end it
        });
        var lines = new LineStream();
        var log = new Log(lines, LogFormat.Text, LogLevel.Info, TimeProvider.System);
        await using var listener = new NotifySocketListener();
        using var notifier = new SystemdNotifier(listener.SocketPath);
        var frozen = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var signals = new ShutdownSignals();
        var daemon = new Daemon(config, log, notifier, WorkerIdentity.ForThisProcess(), HandlerRegistry.WithBuiltIns())
        {
            WatchdogInterval = Interval,
            ReconnectClock = frozen,
        };
        var run = daemon.RunAsync(signals);
        await lines.Lines.WaitAsync(l => l.Contains(" ready: queues", StringComparison.Ordinal), Wait, "the daemon to be ready");
        await listener.Lines.WaitAsync(l => l == "WATCHDOG=1", Wait, "the first ping");

        await server.KillAsync();
        await lines.Lines.WaitAsync(l => l.Contains("redis down", StringComparison.Ordinal), Wait, "redis down");
        int whileTrying = Count(listener);
        // Bound: the loop's command timeout (5 s) plus one attempt (2 x 500 ms) and its backoff, plus one interval.
        await lines.Lines.WaitAsync(l => l.Contains("the execution loop is past its deadline (reconnecting to redis", StringComparison.Ordinal),
            Wait, "the starving line");
        int atStarving = Count(listener);
        Assert.True(atStarving > whileTrying, "pings continue while the first attempt is within its bound");
        await Task.Delay(Interval * 5);
        Assert.Equal(atStarving, Count(listener));

        await server.RestartAsync();
        frozen.Advance(TimeSpan.FromMinutes(1)); // the backoff ends: the next attempt connects
        await lines.Lines.WaitAsync(l => l.Contains("redis up", StringComparison.Ordinal), Wait, "the loop to reconnect");
        Assert.True(await Eventually.ReachesAsync(() => Task.FromResult((long)Count(listener)), atStarving + 3, Wait) >= atStarving + 3,
            "pings resume after the reconnect");
        await using (var redis = new RedisClient(config.Redis))
            await new JobProducer(redis, config.Keys).EnqueueAsync(new EnqueueRequest { Type = "noop" });
        Assert.Equal(75, await run.WaitAsync(Wait));
        Assert.Single(lines.Lines.Snapshot(), l => l.Contains("past its deadline", StringComparison.Ordinal));
    }

    private static int Count(NotifySocketListener listener)
    {
        int n = 0;
        foreach (var l in listener.Lines.Snapshot()) if (l == "WATCHDOG=1") n++;
        return n;
    }

    /// <summary>A wedged handler: awaits a release that the test holds and ignores its cancellation token.</summary>
    private sealed class IgnoresCancellation : IJobHandler
    {
        private readonly Task _release;
        public IgnoresCancellation(Task release) => _release = release;

        public async ValueTask<JobOutcome> RunAsync(RunningJob job, CancellationToken cancellationToken)
        {
            await _release.ConfigureAwait(false);
            return JobOutcome.Success();
        }
    }

    /// <summary>The log's output, announced line by line.</summary>
    private sealed class LineStream : Stream
    {
        private readonly StringBuilder _partial = new();
        public TestSignal<string> Lines { get; } = new();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _partial.Append(Encoding.UTF8.GetString(buffer));
            var text = _partial.ToString();
            int nl;
            while ((nl = text.IndexOf('\n')) >= 0)
            {
                Lines.Announce(text[..nl]);
                text = text[(nl + 1)..];
            }
            _partial.Clear().Append(text);
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
