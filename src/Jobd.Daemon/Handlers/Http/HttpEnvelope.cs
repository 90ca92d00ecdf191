using System.Buffers;
using System.Text.Json;
using Jobd.Queue;

namespace Jobd.Handlers.Http;

/// <summary>The POST body: {"id","type","queue","attempt","max_attempts","enqueued_at","args"}; args are written raw.</summary>
public static class HttpEnvelope
{
    public static byte[] Write(RunningJob job)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + job.ArgsJson.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id"u8, job.Id);
            w.WriteString("type"u8, job.Type);
            w.WriteString("queue"u8, job.Queue);
            w.WriteNumber("attempt"u8, job.Attempt);
            w.WriteNumber("max_attempts"u8, job.MaxAttempts);
            w.WriteNumber("enqueued_at"u8, job.EnqueuedAtMs);
            w.WritePropertyName("args"u8);
            // Args were validated as JSON at enqueue; WriteRawValue checks them again and would throw, not corrupt.
            w.WriteRawValue(job.ArgsJson.Length == 0 ? "null" : job.ArgsJson);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
