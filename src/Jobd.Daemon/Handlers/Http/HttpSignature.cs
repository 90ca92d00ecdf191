using System;
using System.Security.Cryptography;
using System.Text;

namespace Jobd.Handlers.Http;

/// <summary>
/// X-Jobd-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;[,v1=&lt;hex&gt;]: HMAC-SHA256 over "&lt;t&gt;.&lt;body&gt;", one v1 per
/// secret (current, then next during a rotation). The timestamp lets a receiver refuse replays.
/// </summary>
public static class HttpSignature
{
    public const string Header = "X-Jobd-Signature";

    public static string Create(long unixSeconds, ReadOnlySpan<byte> body, byte[] secret, byte[]? next)
    {
        var t = unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sb = new StringBuilder(16 + 2 * 68);
        sb.Append("t=").Append(t);
        Append(sb, t, body, secret);
        if (next is not null) Append(sb, t, body, next);
        return sb.ToString();
    }

    public static string Hex(string t, ReadOnlySpan<byte> body, byte[] secret)
    {
        var signed = new byte[t.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(t, signed);
        signed[t.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(t.Length + 1));
        return Convert.ToHexStringLower(HMACSHA256.HashData(secret, signed));
    }

    private static void Append(StringBuilder sb, string t, ReadOnlySpan<byte> body, byte[] secret) =>
        sb.Append(",v1=").Append(Hex(t, body, secret));
}
