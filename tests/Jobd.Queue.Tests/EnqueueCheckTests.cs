using System;
using Jobd.Queue;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>Bad input refused before Redis, one line naming the field (RELIABILITY.md, "Bad input").</summary>
public sealed class EnqueueCheckTests
{
    private static JobRejectedException Refused(EnqueueRequest r, long max = EnqueueCheck.MaxJobBytesDefault) =>
        Assert.Throws<JobRejectedException>(() => EnqueueCheck.Validate(r, max));

    public static TheoryData<string> UnsafeNames => new()
    {
        "", "with space", "cr\r\nlf", "{tag}", "star*", "x\u0000y", "é", new string('a', 10_000),
    };

    [Theory]
    [MemberData(nameof(UnsafeNames))]
    public void Unsafe_queue_and_type_names_are_refused(string name)
    {
        Assert.Equal("queue", Refused(new EnqueueRequest { Type = "t", Queue = name }).Field);
        Assert.Equal("type", Refused(new EnqueueRequest { Type = name }).Field);
        Assert.Equal("id", Refused(new EnqueueRequest { Type = "t", Id = name }).Field);
    }

    [Theory]
    [InlineData("send_reminder")]
    [InlineData("app.tasks.send-email")]
    [InlineData("billing:invoice")]
    public void Ordinary_type_names_pass(string type) => EnqueueCheck.Validate(new EnqueueRequest { Type = type }, 1024);

    [Theory]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("\"text\"", "must be a JSON object")]
    [InlineData("", "must be a JSON object")]
    [InlineData("{\"id\":\"1\",\"ty", "not valid JSON")]
    [InlineData("{} trailing", "not valid JSON")]
    [InlineData("{}{}", "not valid JSON (line 1, byte 3)")]
    [InlineData("{\"a\":1,}", "not valid JSON")]
    [InlineData("{/*c*/}", "not valid JSON")]
    public void Arguments_must_be_exactly_one_json_object(string json, string expected)
    {
        var e = Refused(new EnqueueRequest { Type = "t", ArgsJson = json });
        Assert.Equal("args", e.Field);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Deeply_nested_arguments_are_refused_not_overflowed()
    {
        var deep = new string('[', 1000) + new string(']', 1000);
        var e = Refused(new EnqueueRequest { Type = "t", ArgsJson = "{\"a\":" + deep + "}" });
        Assert.Contains("nested deeper than 64 levels", e.Message);
    }

    [Fact]
    public void Oversized_arguments_name_the_limit()
    {
        var e = Refused(new EnqueueRequest { Type = "t", ArgsJson = "{\"a\":\"" + new string('x', 2000) + "\"}" }, 1024);
        Assert.Contains("exceed the limit of 1024 bytes (JOBD_MAX_JOB_BYTES)", e.Message);
    }

    [Fact]
    public void Limits_out_of_range_are_refused()
    {
        Assert.Equal("max attempts", Refused(new EnqueueRequest { Type = "t", MaxAttempts = 0 }).Field);
        Assert.Equal("max attempts", Refused(new EnqueueRequest { Type = "t", MaxAttempts = 1_000_000_000 }).Field);
        Assert.Equal("timeout", Refused(new EnqueueRequest { Type = "t", Timeout = TimeSpan.Zero }).Field);
        Assert.Equal("timeout", Refused(new EnqueueRequest { Type = "t", Timeout = TimeSpan.FromDays(365) }).Field);
        Assert.Equal("delay", Refused(new EnqueueRequest { Type = "t", Delay = TimeSpan.FromSeconds(-1) }).Field);
        Assert.Equal("delay", Refused(new EnqueueRequest { Type = "t", Delay = TimeSpan.FromSeconds(1), RunAt = DateTimeOffset.UtcNow }).Field);
        Assert.Equal("unique", Refused(new EnqueueRequest { Type = "t", UniqueKey = new string('k', 201) }).Field);
    }

    [Fact]
    public void Job_ids_are_sortable_ulids()
    {
        var clock = new Jobd.Testing.ManualTimeProvider(new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero));
        var a = JobId.New(clock);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var b = JobId.New(clock);
        Assert.Equal(26, a.Length);
        Assert.True(string.CompareOrdinal(a, b) < 0, a + " < " + b);
        Assert.True(Names.IsId(a));
        Assert.NotEqual(JobId.New(clock), JobId.New(clock));
    }

    [Fact]
    public void Every_key_carries_the_prefix_hash_tag()
    {
        var keys = new QueueKeys("app-1");
        foreach (var k in new[] { keys.Scheduled, keys.Wake, keys.QueueSet, keys.NoUnique, keys.Queue("q"), keys.Job("id"), keys.Unique("u") })
            Assert.StartsWith("{app-1}:", keys.Text(k));
        Assert.Same(keys.Queue("q"), keys.Queue("q"));
        Assert.Throws<ArgumentException>(() => new QueueKeys("bad{prefix}"));
    }
}
