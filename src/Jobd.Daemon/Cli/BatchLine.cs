using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobd.Cli;

/// <summary>One line of `jobd enqueue --batch`: the job and the same options as the flags.</summary>
internal sealed class BatchLine
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("args")] public JsonElement? Args { get; set; }
    [JsonPropertyName("queue")] public string? Queue { get; set; }
    [JsonPropertyName("in")] public string? In { get; set; }
    [JsonPropertyName("at")] public string? At { get; set; }
    [JsonPropertyName("unique")] public string? Unique { get; set; }
    [JsonPropertyName("max_attempts")] public int? MaxAttempts { get; set; }
    [JsonPropertyName("timeout")] public string? Timeout { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
}

/// <summary>Source-generated (no reflection): an unknown field is an error naming it, not silently dropped.</summary>
[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, MaxDepth = 64)]
[JsonSerializable(typeof(BatchLine))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
}
