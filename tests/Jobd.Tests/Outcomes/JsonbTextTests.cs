using Jobd.Outcomes;
using Xunit;

namespace Jobd.Tests.Outcomes;

/// <summary>Values jsonb would refuse become JSON strings of their text; everything else passes unchanged.</summary>
public sealed class JsonbTextTests
{
    [Theory]
    [InlineData("{\"a\":\"\\ud83d\\ude00\"}")] // a surrogate pair
    [InlineData("{\"a\":\"\\\\ud800\"}")] // an escaped backslash, then text
    [InlineData("{\"a\":\"x\\n\\u00e9\"}")]
    public void Values_jsonb_accepts_pass_unchanged(string json) => Assert.Equal(json, JsonbText.From(json));

    [Theory]
    [InlineData("{\"a\":\"\\ud800\"}")] // lone high
    [InlineData("{\"a\":\"\\udc00\"}")] // lone low
    [InlineData("{\"a\":\"\\ud800x\"}")] // high, then not a low
    [InlineData("{\"a\":\"\\ud800\\n\"}")]
    [InlineData("{\"a\":\"\\ud800\\ud800\"}")]
    [InlineData("{\"a\":\"a\\u0000b\"}")]
    public void Values_jsonb_refuses_become_a_json_string_of_their_text(string json)
    {
        var stored = JsonbText.From(json)!;
        Assert.StartsWith("\"", stored);
        Assert.Equal(json, System.Text.Json.JsonDocument.Parse(stored).RootElement.GetString());
    }
}
