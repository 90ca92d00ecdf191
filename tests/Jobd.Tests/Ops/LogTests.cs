using System;
using System.IO;
using System.Text;
using System.Text.Json;
using Jobd.Ops;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Ops;

public sealed class LogTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 8, 30, 15, 123, TimeSpan.Zero);

    private static string Render(LogFormat format, LogLevel min, Action<Log> write)
    {
        var ms = new MemoryStream();
        var log = new Log(ms, format, min, new ManualTimeProvider(At));
        write(log);
        Assert.True(log.Flush(TimeSpan.FromSeconds(10)));
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    [Fact]
    public void Text_lines_carry_time_and_level()
    {
        Assert.Equal("2026-11-22T08:30:15.123Z warn  redis down: connection refused\n",
            Render(LogFormat.Text, LogLevel.Info, l => l.Warn("redis down: connection refused")));
    }

    [Fact]
    public void Journal_lines_carry_syslog_priorities()
    {
        var text = Render(LogFormat.Journal, LogLevel.Debug, l =>
        {
            l.Debug("d");
            l.Info("i");
            l.Warn("w");
            l.Error("e");
        });
        Assert.Equal("<7>d\n<6>i\n<4>w\n<3>e\n", text);
    }

    [Fact]
    public void Json_lines_parse_one_object_each()
    {
        var text = Render(LogFormat.Json, LogLevel.Info, l =>
        {
            l.Info("ready");
            l.Error("quote \" and newline \n inside");
        });
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("error", second.RootElement.GetProperty("level").GetString());
        Assert.Equal("quote \" and newline \n inside", second.RootElement.GetProperty("msg").GetString());
        Assert.Equal(At.UtcDateTime, second.RootElement.GetProperty("time").GetDateTime().ToUniversalTime());
    }

    [Theory]
    [InlineData(LogFormat.Text)]
    [InlineData(LogFormat.Journal)]
    public void Control_characters_cannot_forge_a_line_or_a_priority(LogFormat format)
    {
        var text = Render(format, LogLevel.Info, l => l.Info("type x\n<0>forged emergency\r\u001b[2J"));
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        Assert.Contains("x\\n<0>forged emergency\\r\\u001b[2J", text);
    }

    [Fact]
    public void Nothing_below_the_level_is_written()
    {
        var text = Render(LogFormat.Text, LogLevel.Warn, l =>
        {
            Assert.False(l.IsEnabled(LogLevel.Info));
            l.Info("hidden");
            l.Debug("hidden");
            l.Error("shown");
        });
        Assert.DoesNotContain("hidden", text);
        Assert.Contains("shown", text);
    }

    /// <summary>A value that counts how often its text is built.</summary>
    private sealed class Probe
    {
        public int Formatted;
        public override string ToString() => (++Formatted).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void A_line_below_the_level_is_never_built()
    {
        var probe = new Probe();
        int evaluated = 0;
        int Hole() => ++evaluated;
        var text = Render(LogFormat.Text, LogLevel.Info, l =>
        {
            l.Debug($"cron: {probe} for {Hole()} was enqueued already");
            Assert.Equal(0, probe.Formatted);
            Assert.Equal(0, evaluated);
            l.Info($"shown {probe} {Hole()}");
        });
        Assert.Equal(1, probe.Formatted);
        Assert.Equal(1, evaluated);
        Assert.EndsWith(" info  shown 1 1\n", text);

        text = Render(LogFormat.Text, LogLevel.Error, l =>
        {
            l.Info($"{probe}");
            l.Warn($"{probe}");
        });
        Assert.Equal("", text);
        Assert.Equal(1, probe.Formatted);

        text = Render(LogFormat.Text, LogLevel.Debug, l => l.Debug($"{probe} at {2.5:0.#}s"));
        Assert.EndsWith(" debug 2 at 2.5s\n", text);
    }

    [Theory]
    [InlineData(LogFormat.Text, LogLevel.Info)]
    [InlineData(LogFormat.Json, LogLevel.Info)]
    [InlineData(LogFormat.Journal, LogLevel.Info)]
    [InlineData(LogFormat.Text, LogLevel.Error)]
    public void The_note_of_dropped_lines_is_formatted_like_every_line(LogFormat format, LogLevel min)
    {
        using var stalled = new StalledStream();
        var log = new Log(stalled, format, min, new ManualTimeProvider(At));
        for (int i = 0; i < Log.MaxQueuedLines + 10; i++) log.Error("line " + i);
        stalled.Release();
        Assert.True(log.Flush(TimeSpan.FromSeconds(10)));
        log.Error("after");
        Assert.True(log.Flush(TimeSpan.FromSeconds(10)));
        var note = Assert.Single(stalled.Text().Split('\n'), l => l.Contains("log lines dropped", StringComparison.Ordinal));
        string level = min == LogLevel.Error ? "error" : "warn";
        switch (format)
        {
            case LogFormat.Json:
                using (var doc = JsonDocument.Parse(note))
                {
                    Assert.Equal(At.UtcDateTime, doc.RootElement.GetProperty("time").GetDateTime().ToUniversalTime());
                    Assert.Equal(level, doc.RootElement.GetProperty("level").GetString());
                    Assert.Matches("^[0-9]+ log lines dropped: the log reader was not keeping up$", doc.RootElement.GetProperty("msg").GetString());
                }
                break;
            case LogFormat.Journal:
                Assert.Matches("^<4>[0-9]+ log lines dropped", note);
                break;
            default:
                Assert.Matches($"^2026-11-22T08:30:15.123Z {level} +[0-9]+ log lines dropped", note);
                break;
        }
    }

    [Fact]
    public void A_broken_output_drops_and_counts_lines_instead_of_throwing()
    {
        var closed = new MemoryStream();
        closed.Dispose();
        var log = new Log(closed, LogFormat.Text, LogLevel.Info, new ManualTimeProvider(At));
        log.Info("one");
        log.Info("two");
        log.Flush(TimeSpan.FromSeconds(10));
        Assert.Equal(2, log.DroppedLines);
    }

    [Fact]
    public void A_stalled_reader_never_blocks_the_caller_and_the_drop_is_reported_later()
    {
        using var stalled = new StalledStream();
        var log = new Log(stalled, LogFormat.Text, LogLevel.Info, new ManualTimeProvider(At));
        for (int i = 0; i < Log.MaxQueuedLines + 500; i++) log.Info("line " + i);
        Assert.InRange(log.DroppedLines, 400, 501);
        Assert.False(log.Flush(TimeSpan.FromMilliseconds(50)));
        stalled.Release();
        Assert.True(log.Flush(TimeSpan.FromSeconds(10)));
        log.Info("after");
        Assert.True(log.Flush(TimeSpan.FromSeconds(10)));
        Assert.Contains("log lines dropped: the log reader was not keeping up", stalled.Text());
        Assert.EndsWith("after\n", stalled.Text());
    }

    /// <summary>A stream whose writes block until released, like a pipe whose reader was stopped.</summary>
    private sealed class StalledStream : MemoryStream
    {
        private readonly System.Threading.ManualResetEventSlim _open = new(false);

        public void Release() => _open.Set();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _open.Wait();
            lock (this) base.Write(buffer);
        }

        public string Text()
        {
            lock (this) return Encoding.UTF8.GetString(ToArray());
        }
    }
}
