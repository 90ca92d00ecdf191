using Jobd.Outcomes;
using Xunit;

namespace Jobd.Tests.Outcomes;

/// <summary>What may reach a jsonb column as is, and what is stored as a JSON string instead (RELIABILITY.md, G7).</summary>
public sealed class JsonbTextTests
{
    [Theory]
    [InlineData("{\"a\":1}")]
    [InlineData("[1,2,{\"b\":\"x\"}]")]
    [InlineData("\"text\"")]
    [InlineData(" {\"emoji\":\"\\ud83d\\ude00\"} ")]
    [InlineData("{\"slash\":\"\\\\u0000 is only text here\"}")]
    public void Valid_json_that_jsonb_accepts_passes_unchanged(string json) => Assert.Equal(json, JsonbText.From(json));

    [Theory]
    [InlineData("{\"a\":\"\\u0000\"}")]
    [InlineData("{\"cut\":\"\\ud83d\"}")]
    [InlineData("{\"\\udc00\":1}")]
    [InlineData("not json")]
    [InlineData("{\"a\":1} trailing")]
    [InlineData("{\"a\":")]
    [InlineData("1 2")]
    public void Anything_jsonb_would_refuse_becomes_a_json_string_of_its_text(string value)
    {
        var stored = JsonbText.From(value)!;
        Assert.StartsWith("\"", stored);
        Assert.True(JsonbText.IsJsonbSafe(stored), stored);
        using var doc = System.Text.Json.JsonDocument.Parse(stored);
        Assert.Equal(value, doc.RootElement.GetString());
    }

    [Fact]
    public void An_empty_value_is_null_and_nul_characters_are_replaced_in_text()
    {
        Assert.Null(JsonbText.From(""));
        Assert.Equal("a\uFFFDb", JsonbText.Text("a\0b"));
        Assert.DoesNotContain("\\u0000", JsonbText.From("raw \0 nul")!);
    }
}
