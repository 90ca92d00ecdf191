using System;
using System.IO;
using System.Threading.Tasks;
using Jobd.Ops;
using Jobd.Testing;
using Xunit;

namespace Jobd.Tests.Ops;

/// <summary>
/// JOURNAL_STREAM is honoured only when it names stderr's own device and inode (systemd.exec(5)). Expected values
/// come from coreutils' stat, not from the code under test.
/// </summary>
public sealed class JournalStreamTests
{
    /// <summary>`stat -L -c FORMAT PATH`: its one line of output.</summary>
    internal static async Task<string> StatAsync(string format, string path)
    {
        await using var stat = ChildProcess.Start("stat", new[] { "-L", "-c", format, path });
        Assert.Equal(0, await stat.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return Assert.Single(stat.Stdout.Snapshot());
    }

    [Fact]
    public async Task A_descriptor_is_named_by_its_device_and_inode_and_by_nothing_else()
    {
        var path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            int fd = (int)file.SafeFileHandle.DangerousGetHandle();
            var id = await StatAsync("%d:%i", path);
            Assert.True(JournalStream.Names(id, fd), id);
            var device = id[..id.IndexOf(':')];
            var inode = id[(id.IndexOf(':') + 1)..];
            foreach (var other in new[] { device + ":" + (ulong.Parse(inode) + 1), (ulong.Parse(device) + 1) + ":" + inode, "0:0",
                         "", ":" + inode, device + ":", device + ":" + inode + "x", " " + id, "-1:" + inode, null })
                Assert.False(JournalStream.Names(other, fd), other);
            Assert.False(JournalStream.Names(id, 9999)); // not an open descriptor
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Device_numbers_are_encoded_as_st_dev_is()
    {
        // The encoding matters once a major or minor number passes 255 (NVMe is 259, for example).
        Assert.Equal(66305UL, JournalStream.MakeDev(259, 1));
        Assert.Equal(0x1000_0120_0134UL, JournalStream.MakeDev(0x1001, 0x1234));
        var parts = (await StatAsync("%Hd %Ld %d", Path.GetTempPath())).Split(' ');
        Assert.Equal(ulong.Parse(parts[2]), JournalStream.MakeDev(uint.Parse(parts[0]), uint.Parse(parts[1])));
    }
}
