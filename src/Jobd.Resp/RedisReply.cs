// One parsed RESP2 reply. Integers, nil and the common simple strings (OK, PONG, QUEUED) carry no allocation;
// bulk strings are copied into a new byte[] that the caller owns; arrays are RedisReply[].
using System;
using System.Text;

namespace Jobd.Resp;

public enum RedisReplyKind : byte
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    /// <summary>$-1: a nil bulk string.</summary>
    Nil,
    Array,
    /// <summary>*-1: a nil array (BLPOP/BLMOVE timing out, for example).</summary>
    NilArray,
}

/// <summary>An immutable reply value; safe to share once received.</summary>
public readonly struct RedisReply
{
    private readonly object? _ref;

    private RedisReply(RedisReplyKind kind, long integer, object? reference)
    {
        Kind = kind;
        Integer = integer;
        _ref = reference;
    }

    public RedisReplyKind Kind { get; }

    /// <summary>The value of an integer reply (0 otherwise).</summary>
    public long Integer { get; }

    public bool IsNil => Kind is RedisReplyKind.Nil or RedisReplyKind.NilArray;
    public bool IsError => Kind == RedisReplyKind.Error;

    /// <summary>The bytes of a bulk or simple string (shared cached arrays for OK/PONG/QUEUED: do not write to them).</summary>
    public byte[]? Bytes => _ref as byte[];

    public RedisReply[]? Items => _ref as RedisReply[];

    /// <summary>The error of an error reply.</summary>
    public RedisServerException? Error => _ref as RedisServerException;

    public bool IsOk => Kind == RedisReplyKind.SimpleString && ReferenceEquals(_ref, RespCached.Ok);

    /// <summary>Throws the server error this reply carries; returns the reply otherwise.</summary>
    public RedisReply ThrowIfError() => _ref is RedisServerException e ? throw e : this;

    /// <summary>UTF-8 text of a string reply, the digits of an integer, null for nil. Allocates: not for hot paths.</summary>
    public string? AsString() => Kind switch
    {
        RedisReplyKind.SimpleString or RedisReplyKind.BulkString => Encoding.UTF8.GetString((byte[])_ref!),
        RedisReplyKind.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RedisReplyKind.Error => ((RedisServerException)_ref!).Message,
        _ => null,
    };

    public override string ToString() => Kind switch
    {
        RedisReplyKind.Array => $"array[{Items!.Length}]",
        RedisReplyKind.Nil or RedisReplyKind.NilArray => "nil",
        _ => Kind + ": " + AsString(),
    };

    internal static RedisReply Simple(byte[] bytes) => new(RedisReplyKind.SimpleString, 0, bytes);
    internal static RedisReply Bulk(byte[] bytes) => new(RedisReplyKind.BulkString, 0, bytes);
    internal static RedisReply FromInteger(long value) => new(RedisReplyKind.Integer, value, null);
    internal static RedisReply FromError(RedisServerException error) => new(RedisReplyKind.Error, 0, error);
    internal static RedisReply FromArray(RedisReply[] items) => new(RedisReplyKind.Array, 0, items);
    internal static readonly RedisReply NilBulk = new(RedisReplyKind.Nil, 0, null);
    internal static readonly RedisReply NilArrayReply = new(RedisReplyKind.NilArray, 0, null);
}

/// <summary>Simple-string replies common enough to be shared instead of allocated.</summary>
internal static class RespCached
{
    public static readonly byte[] Ok = "OK"u8.ToArray();
    public static readonly byte[] Pong = "PONG"u8.ToArray();
    public static readonly byte[] Queued = "QUEUED"u8.ToArray();
    public static readonly RedisReply[] EmptyArray = [];
    public static readonly byte[] EmptyBytes = [];
}
