using System;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Jobd.Ops;

/// <summary>
/// Is stderr the journal? systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected to stdout or
/// stderr, and systemd.exec(5) asks programs to compare it with stderr's own device and inode: the variable is
/// inherited by every child, also by one whose stderr a shell redirected to a file or a pipe, and such a child
/// must not write journal priority prefixes there. Read once, at start-up.
/// </summary>
public static partial class JournalStream
{
    private const int StderrFd = 2;
    private const int AtEmptyPath = 0x1000; // AT_EMPTY_PATH: statx the descriptor itself
    private const uint StatxIno = 0x100;    // STATX_INO; the device fields are always filled
    private const int StatxSize = 256;      // sizeof(struct statx)

    /// <summary>True when <paramref name="journalStream"/> names the file stderr is open on.</summary>
    public static bool IsStderr(string? journalStream) => Names(journalStream, StderrFd);

    /// <summary>True when <paramref name="journalStream"/> ("DEVICE:INODE", decimal) names the file <paramref name="fd"/> is open on.</summary>
    public static bool Names(string? journalStream, int fd)
    {
        if (!TryParse(journalStream, out ulong device, out ulong inode)) return false;
        return TryIdentify(fd, out ulong fdDevice, out ulong fdInode) && fdDevice == device && fdInode == inode;
    }

    private static bool TryParse(string? value, out ulong device, out ulong inode)
    {
        device = inode = 0;
        int colon = value?.IndexOf(':') ?? -1;
        return colon > 0
            && ulong.TryParse(value.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out device)
            && ulong.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out inode);
    }

    /// <summary>
    /// fstat's st_dev and st_ino of <paramref name="fd"/>, through statx(2): struct statx has one layout on every
    /// architecture, struct stat does not. False when the call fails (a closed descriptor, a libc without statx).
    /// </summary>
    internal static bool TryIdentify(int fd, out ulong device, out ulong inode)
    {
        device = inode = 0;
        Span<byte> buffer = stackalloc byte[StatxSize];
        try
        {
            if (Statx(fd, "", AtEmptyPath, StatxIno, ref MemoryMarshal.GetReference(buffer)) != 0) return false;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
        // struct statx: stx_ino at offset 32, stx_dev_major and stx_dev_minor at 136 and 140 (linux/stat.h).
        inode = MemoryMarshal.Read<ulong>(buffer[32..]);
        device = MakeDev(MemoryMarshal.Read<uint>(buffer[136..]), MemoryMarshal.Read<uint>(buffer[140..]));
        return true;
    }

    /// <summary>makedev(3) as glibc and musl encode dev_t: st_dev, and so JOURNAL_STREAM, carry this number.</summary>
    internal static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000u) << 32) | ((ulong)(major & 0xfffu) << 8) | ((ulong)(minor & 0xffffff00u) << 12) | (minor & 0xffu);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
