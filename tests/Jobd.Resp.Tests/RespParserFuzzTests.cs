// Randomized RespParser test: thousands of generated frames, valid, truncated and corrupted, each offered at every
// byte boundary. Valid frames must parse to what was generated; prefixes must say "need more"; corrupted input
// may be accepted, need more, or throw RedisProtocolException, but never anything else.
using System;
using System.Collections.Generic;
using System.Text;
using Jobd.Resp;
using Xunit;

namespace Jobd.Resp.Tests;

public sealed class RespParserFuzzTests
{
    private const long Max = 4096;
    private const string Corruptions = "\r\n*$:+-0123456789x\0";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ValidFramesParseAtEveryBoundary(int seed)
    {
        var random = new Random(seed);
        for (int n = 0; n < 1500; n++)
        {
            var sb = new StringBuilder();
            string expected = Generate(random, sb, 0);
            byte[] frame = Encoding.UTF8.GetBytes(sb.ToString());
            for (int cut = 0; cut < frame.Length; cut++)
                Assert.False(RespParser.TryMeasure(frame.AsSpan(0, cut), Max, out _), $"seed {seed} frame {n}: complete at {cut}");
            Assert.True(RespParser.TryRead(frame, Max, out var reply, out int consumed), $"seed {seed} frame {n}");
            Assert.Equal(frame.Length, consumed);
            Assert.Equal(expected, Describe(reply));
        }
    }

    [Fact]
    public void AStreamSplitAnywhereYieldsTheSameReplies()
    {
        var random = new Random(7);
        var stream = new List<byte>();
        var expected = new List<string>();
        for (int n = 0; n < 2000; n++)
        {
            var sb = new StringBuilder();
            expected.Add(Generate(random, sb, 0));
            stream.AddRange(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        byte[] all = stream.ToArray();
        // A reader that receives chunks of random size, as a socket delivers them.
        var buffered = new List<byte>();
        int next = 0, offset = 0;
        while (offset < all.Length)
        {
            int chunk = Math.Min(all.Length - offset, random.Next(1, 40));
            for (int i = 0; i < chunk; i++) buffered.Add(all[offset + i]);
            offset += chunk;
            while (true)
            {
                byte[] view = buffered.ToArray();
                if (!RespParser.TryRead(view, Max, out var reply, out int consumed)) break;
                Assert.Equal(expected[next++], Describe(reply));
                buffered.RemoveRange(0, consumed);
            }
        }
        Assert.Equal(expected.Count, next);
        Assert.Empty(buffered);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void CorruptedFramesFailOnlyWithProtocolErrors(int seed)
    {
        var random = new Random(seed);
        int rejected = 0;
        for (int n = 0; n < 3000; n++)
        {
            var sb = new StringBuilder();
            Generate(random, sb, 0);
            byte[] frame = Encoding.UTF8.GetBytes(sb.ToString());
            int at = random.Next(frame.Length);
            frame[at] = (byte)Corruptions[random.Next(Corruptions.Length)];
            for (int cut = 1; cut <= frame.Length; cut++)
            {
                try
                {
                    if (RespParser.TryRead(frame.AsSpan(0, cut), Max, out _, out int consumed)) Assert.InRange(consumed, 1, cut);
                }
                catch (RedisProtocolException)
                {
                    rejected++;
                    break; // a connection closes at the first malformed byte; longer prefixes are moot
                }
            }
        }
        Assert.True(rejected > 500, $"seed {seed}: only {rejected} corrupted frames were rejected");
    }

    /// <summary>Writes a random reply to <paramref name="sb"/> and returns its description.</summary>
    private static string Generate(Random random, StringBuilder sb, int depth)
    {
        switch (random.Next(depth < 4 ? 8 : 6))
        {
            case 0:
            {
                string s = Word(random, 0);
                sb.Append('+').Append(s).Append("\r\n");
                return "+" + s;
            }
            case 1:
            {
                string s = Word(random, 1).ToUpperInvariant() + " " + Word(random, 0);
                sb.Append('-').Append(s).Append("\r\n");
                return "-" + s.TrimEnd();
            }
            case 2:
            {
                long v = random.Next(4) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : random.Next(-1000, 1000);
                sb.Append(':').Append(v).Append("\r\n");
                return ":" + v;
            }
            case 3:
            case 4:
            {
                // Binary-safe content: CR, LF and '$' inside the payload.
                var chars = new char[random.Next(0, 30)];
                for (int i = 0; i < chars.Length; i++) chars[i] = "ab\r\n$*:+-\0 z"[random.Next(12)];
                string s = new(chars);
                sb.Append('$').Append(s.Length).Append("\r\n").Append(s).Append("\r\n");
                return "$" + s;
            }
            case 5:
                if (random.Next(2) == 0) { sb.Append("$-1\r\n"); return "nil"; }
                sb.Append("*-1\r\n");
                return "nil*";
            default:
            {
                int count = random.Next(0, 6);
                sb.Append('*').Append(count).Append("\r\n");
                var parts = new string[count];
                for (int i = 0; i < count; i++) parts[i] = Generate(random, sb, depth + 1);
                return "[" + string.Join(",", parts) + "]";
            }
        }
    }

    private static string Word(Random random, int minLength)
    {
        var chars = new char[random.Next(minLength, 12)];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)('a' + random.Next(26));
        return new string(chars);
    }

    private static string Describe(RedisReply r) => r.Kind switch
    {
        RedisReplyKind.SimpleString => "+" + r.AsString(),
        RedisReplyKind.Error => "-" + (r.Error!.Prefix + " " + r.Error.ServerMessage).TrimEnd(),
        RedisReplyKind.Integer => ":" + r.Integer,
        RedisReplyKind.BulkString => "$" + r.AsString(),
        RedisReplyKind.Nil => "nil",
        RedisReplyKind.NilArray => "nil*",
        _ => "[" + string.Join(",", Array.ConvertAll(r.Items!, Describe)) + "]",
    };
}
