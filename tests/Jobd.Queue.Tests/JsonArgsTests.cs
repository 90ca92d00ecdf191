using System;
using System.Diagnostics;
using System.Text;
using Jobd.Queue;
using Xunit;

namespace Jobd.Queue.Tests;

/// <summary>The strict JSON rules the CLI and the worker both apply to job arguments (RELIABILITY.md, "Hostile JSON").</summary>
public sealed class JsonArgsTests
{
    private static string? Problem(string json) => JsonArgs.Problem(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"a\":{\"a\":1},\"b\":{\"a\":2}}")] // the same name in different objects
    [InlineData("{\"a\":[{\"k\":1},{\"k\":2}]}")]
    [InlineData("{\"s\":\"\\ud83d\\ude00\"}")] // a surrogate pair
    [InlineData("{\"s\":\"\\\\ud800\"}")] // an escaped backslash, then text
    [InlineData("{\"nul\":\"\\u0000\"}")] // valid JSON; the sink stores it safely
    [InlineData("{\"a\":1} \n")]
    public void Acceptable_arguments_pass(string json) => Assert.Null(Problem(json));

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}", "duplicate key at byte 8")]
    [InlineData("{\"a\":1,\"\\u0061\":2}", "duplicate key")] // the same name, escaped
    [InlineData("{\"o\":{\"x\":1,\"y\":2,\"x\":3}}", "duplicate key")]
    [InlineData("{\"s\":\"\\ud800\"}", "lone surrogate")]
    [InlineData("{\"s\":\"\\udc00\\ud800\"}", "lone surrogate")]
    [InlineData("{\"s\":\"\\ud800x\"}", "lone surrogate")]
    [InlineData("{\"\\udfff\":1}", "lone surrogate")]
    [InlineData("\uFEFF{}", "byte order mark")]
    [InlineData(" {}", "must be a JSON object")]
    [InlineData("{\"a\":1,}", "not valid JSON")]
    [InlineData("{/*c*/}", "not valid JSON")]
    [InlineData("{} x", "not valid JSON")]
    [InlineData("{\"id\":\"1\",\"ty", "not valid JSON")]
    public void Hostile_arguments_are_refused_with_the_reason(string json, string expected) =>
        Assert.Contains(expected, Problem(json) ?? "(accepted)");

    [Fact]
    public void Invalid_utf8_is_refused_with_its_position()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"a\":\"xx\"}");
        bytes[7] = 0xFF;
        Assert.Equal("not valid UTF-8 at byte 8", JsonArgs.Problem(bytes));
        Assert.Contains("not valid UTF-8", JsonArgs.Problem(new byte[] { (byte)'{', 0xED, 0xA0, 0x80, (byte)'}' })); // CESU surrogate
    }

    [Fact]
    public void Depth_is_bounded_at_64()
    {
        Assert.Null(Problem(new string('[', 63).Insert(0, "{\"a\":") + new string(']', 63) + "}"));
        Assert.Contains("nested deeper than 64 levels", Problem("{\"a\":" + new string('[', 1000) + new string(']', 1000) + "}"));
    }

    [Fact]
    public void A_hundred_thousand_keys_are_checked_in_linear_time()
    {
        var sb = new StringBuilder("{");
        for (int i = 0; i < 100_000; i++) sb.Append(i == 0 ? "" : ",").Append("\"k").Append(i).Append("\":0");
        var distinct = Encoding.UTF8.GetBytes(sb.Append('}').ToString());
        var watch = Stopwatch.StartNew();
        Assert.Null(JsonArgs.Problem(distinct));
        sb.Length--;
        Assert.Contains("duplicate key", JsonArgs.Problem(Encoding.UTF8.GetBytes(sb.Append(",\"k5\":1}").ToString())));
        // Not a speed assertion: a quadratic check would take minutes here, a linear one milliseconds.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Null(Problem("{\"a\":1}")); // the state of the big check is gone
    }
}
