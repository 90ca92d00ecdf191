using System;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Jobd.Resp.Tests;

/// <summary>The managed SHA-1 that names scripts, checked against the platform's at every padding boundary.</summary>
public sealed class ScriptSha1Tests
{
    [Fact]
    public void Known_vectors()
    {
        Assert.Equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", ScriptSha1.HexLower(Array.Empty<byte>()));
        Assert.Equal("a9993e364706816aba3e25717850c26c9cd0d89d", ScriptSha1.HexLower("abc"u8));
    }

    [Fact]
    public void Every_length_up_to_three_blocks_matches_the_platform()
    {
        var random = new Random(42);
        for (int n = 0; n <= 200; n++)
        {
            var data = new byte[n];
            random.NextBytes(data);
            Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(data)), ScriptSha1.HexLower(data));
        }
        var big = Encoding.UTF8.GetBytes(new string('x', 100_003));
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(big)), ScriptSha1.HexLower(big));
    }

    [Fact]
    public void Redis_agrees_with_the_script_name()
    {
        var script = new RedisScript("return 1");
        Assert.Equal("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", script.Sha1);
    }
}
