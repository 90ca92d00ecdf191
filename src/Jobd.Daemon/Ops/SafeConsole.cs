using System;
using System.IO;
using System.Text;

namespace Jobd.Ops;

/// <summary>
/// Console output that cannot take jobd down. Started with stdout or stderr closed (`jobd version >&-`), .NET
/// throws on the first write, and the runtime has by then put a file of its own (read-only /dev/urandom) on the
/// free descriptor, so it cannot be reopened from Main. Writes that fail are dropped instead; the exit code stays
/// jobd's own (64, 78, ...), as with a reader that went away (EPIPE).
/// </summary>
public static class SafeConsole
{
    public static void Install()
    {
        Console.SetOut(new DroppingWriter(OrNull(() => Console.Out)));
        Console.SetError(new DroppingWriter(OrNull(() => Console.Error)));
    }

    /// <summary>Even creating the console writer throws when its descriptor is bad.</summary>
    private static TextWriter OrNull(Func<TextWriter> get)
    {
        try
        {
            return get();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return TextWriter.Null;
        }
    }

    public static Stream OpenStdout() => Open(Console.OpenStandardOutput);

    public static Stream OpenStderr() => Open(Console.OpenStandardError);

    private static Stream Open(Func<Stream> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Stream.Null;
        }
    }

    private sealed class DroppingWriter : TextWriter
    {
        private readonly TextWriter _inner;

        public DroppingWriter(TextWriter inner) => _inner = inner;

        public override Encoding Encoding => _inner.Encoding;

        public override void Write(char value) => Try(() => _inner.Write(value));
        public override void Write(string? value) => Try(() => _inner.Write(value));
        public override void Write(char[] buffer, int index, int count) => Try(() => _inner.Write(buffer, index, count));
        public override void WriteLine(string? value) => Try(() => _inner.WriteLine(value));
        public override void Flush() => Try(_inner.Flush);

        private static void Try(Action write)
        {
            try
            {
                write();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
            }
        }
    }
}
