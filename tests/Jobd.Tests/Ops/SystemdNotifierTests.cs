using System;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Ops;

public sealed class SystemdNotifierTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Messages_arrive_at_a_real_datagram_socket_in_order()
    {
        await using var listener = new NotifySocketListener();
        using var notifier = new SystemdNotifier(listener.SocketPath);
        Assert.True(notifier.Enabled);
        notifier.Status("waiting for redis");
        notifier.Ready();
        notifier.Watchdog();
        notifier.Status("two\nlines");
        notifier.Stopping();
        await listener.Lines.WaitAsync(l => l == "STOPPING=1", Wait, "STOPPING=1");
        Assert.Equal(new[] { "STATUS=waiting for redis", "READY=1", "WATCHDOG=1", "STATUS=two lines", "STOPPING=1" },
            listener.Lines.Snapshot());
    }

    [Fact]
    public async Task An_abstract_socket_named_with_an_at_sign_receives_the_messages()
    {
        await using var listener = new NotifySocketListener(abstractName: true);
        Assert.StartsWith("@jobd-test/", listener.SocketPath);
        using var notifier = new SystemdNotifier(listener.SocketPath);
        notifier.Ready();
        notifier.Watchdog();
        await listener.Lines.WaitAsync(l => l == "WATCHDOG=1", Wait, "WATCHDOG=1");
        Assert.Equal(new[] { "READY=1", "WATCHDOG=1" }, listener.Lines.Snapshot());
    }

    [Fact]
    public void Without_notify_socket_every_call_is_a_no_op()
    {
        using var notifier = new SystemdNotifier(null);
        Assert.False(notifier.Enabled);
        notifier.Ready();
        notifier.Stopping();
    }

    [Fact]
    public void A_vanished_socket_does_not_throw()
    {
        using var notifier = new SystemdNotifier("/tmp/jobd-no-such-dir-" + Guid.NewGuid() + "/notify.sock");
        notifier.Ready();
        notifier.Status("still running");
    }

    [Fact]
    public async Task A_receiver_that_stops_reading_never_blocks_the_sender()
    {
        // Bound but never read: its queue holds net.unix.max_dgram_qlen datagrams (10 by default), then a
        // blocking sender would wait forever (a bench listener hung the execution loop that way).
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "jobd-deaf-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        using var deaf = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram,
            System.Net.Sockets.ProtocolType.Unspecified);
        deaf.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        try
        {
            using var notifier = new SystemdNotifier(path);
            var sending = Task.Run(() =>
            {
                for (int i = 0; i < 1_000; i++) notifier.Status("busy, " + i + " jobs done");
            });
            // A hang detector, not a speed check: a blocking send never finishes at all.
            Assert.Same(sending, await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(30))));
            await sending;
            Assert.True(deaf.Available > 0); // the first datagrams were delivered; the rest were dropped
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Theory]
    [InlineData("10000000", null, 5_000)]
    [InlineData("2000000", "self", 1_000)]
    [InlineData("2000000", "1", null)]
    [InlineData("0", null, null)]
    [InlineData("junk", null, null)]
    [InlineData(null, null, null)]
    public void The_watchdog_interval_is_half_of_watchdog_usec_for_this_pid(string? usec, string? pid, int? expectedMs)
    {
        if (pid == "self") pid = Environment.ProcessId.ToString();
        var interval = WatchdogSettings.PingInterval(usec, pid);
        Assert.Equal(expectedMs is null ? null : TimeSpan.FromMilliseconds(expectedMs.Value), interval);
    }
}
