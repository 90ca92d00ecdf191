// A command whose arguments are all known up front (or a fixed prefix of one: name and keys), encoded to RESP
// once and re-sent as the same bytes every time. Immutable and thread-safe.
using System;
using System.Text;

namespace Jobd.Resp;

/// <summary>An encoded command frame. Build once at start-up; sending it allocates nothing.</summary>
public sealed class PreparedCommand
{
    private readonly byte[] _frame;
    private readonly int _argumentsStart;

    private PreparedCommand(byte[] frame, int argumentsStart, int argumentCount, string name)
    {
        _frame = frame;
        _argumentsStart = argumentsStart;
        ArgumentCount = argumentCount;
        Name = name;
    }

    /// <summary>The whole frame, header included, as sent on the wire.</summary>
    public ReadOnlyMemory<byte> Frame => _frame;

    /// <summary>The encoded arguments without the array header: the prefix of a longer command.</summary>
    internal ReadOnlySpan<byte> Arguments => _frame.AsSpan(_argumentsStart);

    public int ArgumentCount { get; }

    /// <summary>The command name (first argument), for error messages.</summary>
    public string Name { get; }

    /// <summary>Encodes text arguments (UTF-8).</summary>
    public static PreparedCommand Create(params string[] arguments)
    {
        var bytes = new byte[arguments.Length][];
        for (int i = 0; i < arguments.Length; i++) bytes[i] = Encoding.UTF8.GetBytes(arguments[i]);
        return Create(bytes);
    }

    /// <summary>Encodes binary arguments (pre-encoded keys, for example).</summary>
    public static PreparedCommand Create(params byte[][] arguments)
    {
        if (arguments.Length == 0) throw new ArgumentException("a command needs at least its name", nameof(arguments));
        using var buffer = new RespBuffer();
        buffer.WriteArrayHeader(arguments.Length);
        int argumentsStart = buffer.Length;
        foreach (var a in arguments) buffer.WriteBulk(a);
        return new PreparedCommand(buffer.WrittenSpan.ToArray(), argumentsStart, arguments.Length, Encoding.UTF8.GetString(arguments[0]));
    }

    public override string ToString() => Name;
}
