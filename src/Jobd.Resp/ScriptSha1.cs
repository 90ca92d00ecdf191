using System;
using System.Buffers.Binary;

namespace Jobd.Resp;

/// <summary>
/// SHA-1 (FIPS 180-4) of a script body, which is how Redis names scripts for EVALSHA. Not for security.
/// Written here because System.Security.Cryptography loads OpenSSL's libcrypto, which measured 3.5 MB of the
/// idle worker's RSS, for four hashes at start-up; a plain-TCP jobd needs no OpenSSL at all.
/// </summary>
internal static class ScriptSha1
{
    public static string HexLower(ReadOnlySpan<byte> data)
    {
        uint h0 = 0x67452301, h1 = 0xEFCDAB89, h2 = 0x98BADCFE, h3 = 0x10325476, h4 = 0xC3D2E1F0;
        Span<uint> w = stackalloc uint[80];
        Span<byte> block = stackalloc byte[64];
        long bitLength = (long)data.Length * 8;
        int full = data.Length / 64;
        for (int b = 0; b <= full + 1; b++)
        {
            // The last one or two blocks carry the 0x80 marker and the message length in bits.
            int offset = b * 64;
            if (offset + 64 <= data.Length)
            {
                data.Slice(offset, 64).CopyTo(block);
            }
            else
            {
                block.Clear();
                int tail = Math.Max(0, data.Length - offset);
                if (offset <= data.Length)
                {
                    data.Slice(offset, tail).CopyTo(block);
                    block[tail] = 0x80;
                }
                if (tail >= 56 && offset <= data.Length)
                {
                    Compress(block, w, ref h0, ref h1, ref h2, ref h3, ref h4);
                    continue;
                }
                BinaryPrimitives.WriteInt64BigEndian(block[56..], bitLength);
                Compress(block, w, ref h0, ref h1, ref h2, ref h3, ref h4);
                break;
            }
            Compress(block, w, ref h0, ref h1, ref h2, ref h3, ref h4);
        }
        Span<byte> digest = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(digest, h0);
        BinaryPrimitives.WriteUInt32BigEndian(digest[4..], h1);
        BinaryPrimitives.WriteUInt32BigEndian(digest[8..], h2);
        BinaryPrimitives.WriteUInt32BigEndian(digest[12..], h3);
        BinaryPrimitives.WriteUInt32BigEndian(digest[16..], h4);
        return Convert.ToHexStringLower(digest);
    }

    private static void Compress(ReadOnlySpan<byte> block, Span<uint> w, ref uint h0, ref uint h1, ref uint h2, ref uint h3, ref uint h4)
    {
        for (int i = 0; i < 16; i++) w[i] = BinaryPrimitives.ReadUInt32BigEndian(block[(i * 4)..]);
        for (int i = 16; i < 80; i++) w[i] = uint.RotateLeft(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint a = h0, b = h1, c = h2, d = h3, e = h4;
        for (int i = 0; i < 80; i++)
        {
            uint f, k;
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6; }
            uint t = uint.RotateLeft(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = uint.RotateLeft(b, 30);
            b = a;
            a = t;
        }
        h0 += a; h1 += b; h2 += c; h3 += d; h4 += e;
    }
}
