using System;
using System.Security.Cryptography;

namespace Jobd.Queue;

/// <summary>
/// New job ids: 26-character ULIDs (48-bit millisecond time, 80 random bits, Crockford base32), so ids sort by
/// creation time and need no coordination between producers.
/// </summary>
public static class JobId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(TimeProvider? clock = null)
    {
        long ms = (clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        return string.Create(26, (ms, R: ToUInt128(random)), static (chars, s) =>
        {
            for (int i = 9; i >= 0; i--)
            {
                chars[i] = Alphabet[(int)(s.ms & 31)];
                s.ms >>= 5;
            }
            var r = s.R;
            for (int i = 25; i >= 10; i--)
            {
                chars[i] = Alphabet[(int)(r & 31)];
                r >>= 5;
            }
        });
    }

    private static UInt128 ToUInt128(ReadOnlySpan<byte> bytes)
    {
        UInt128 v = 0;
        foreach (var b in bytes) v = (v << 8) | b;
        return v;
    }
}
