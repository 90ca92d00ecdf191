using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Jobd.Resp;

namespace Jobd.Queue;

/// <summary>
/// The result sink's side of the outbox stream {P}:outbox (PROTOCOL.md, "Outbox"): one consumer group, "sink",
/// in which every worker with DATABASE_URL is a consumer named by its worker id. New entries are read with
/// XREADGROUP; entries a dead consumer read but never acknowledged are taken over with XAUTOCLAIM once idle
/// for a lease; committed ones are acknowledged and deleted by one script; a stopping consumer leaves the group
/// only when XPENDING lists nothing under its name. Commands encoded once.
/// </summary>
public sealed class Outbox
{
    public const string Group = "sink";
    private readonly byte[] _key;
    private readonly PreparedCommand _createGroup;
    private readonly PreparedCommand _readNew;
    private readonly PreparedCommand _claim;
    private readonly PreparedCommand _length;
    private readonly PreparedCommand _leave;
    private readonly PreparedCommand _pendingOfThisConsumer;
    private readonly byte[] _group = Encoding.ASCII.GetBytes(Group);

    public Outbox(QueueKeys keys, string consumer, int batch, TimeSpan claimIdle)
    {
        _key = keys.Outbox;
        var count = Ascii(batch);
        var name = Encoding.UTF8.GetBytes(consumer);
        // From id 0: outcomes recorded before any sink created the group are delivered too.
        _createGroup = PreparedCommand.Create("XGROUP"u8.ToArray(), "CREATE"u8.ToArray(), _key, _group, "0"u8.ToArray(), "MKSTREAM"u8.ToArray());
        _readNew = PreparedCommand.Create("XREADGROUP"u8.ToArray(), "GROUP"u8.ToArray(), _group, name, "COUNT"u8.ToArray(), count,
            "STREAMS"u8.ToArray(), _key, ">"u8.ToArray());
        _claim = PreparedCommand.Create("XAUTOCLAIM"u8.ToArray(), _key, _group, name, Ascii((long)claimIdle.TotalMilliseconds),
            "0-0"u8.ToArray(), "COUNT"u8.ToArray(), count);
        _length = PreparedCommand.Create("XLEN"u8.ToArray(), _key);
        _leave = PreparedCommand.Create("XGROUP"u8.ToArray(), "DELCONSUMER"u8.ToArray(), _key, _group, name);
        _pendingOfThisConsumer = PreparedCommand.Create("XPENDING"u8.ToArray(), _key, _group, "-"u8.ToArray(), "+"u8.ToArray(),
            "1"u8.ToArray(), name);
    }

    /// <summary>XGROUP CREATE; a BUSYGROUP refusal means another worker made it first, which is as good.</summary>
    public PreparedCommand CreateGroup => _createGroup;
    public PreparedCommand ReadNew => _readNew;
    public PreparedCommand Claim => _claim;
    public PreparedCommand Length => _length;

    /// <summary>XPENDING for this consumer, at most one entry: an empty array when nothing is pending under it.</summary>
    public PreparedCommand PendingOfThisConsumer => _pendingOfThisConsumer;

    /// <summary>XGROUP DELCONSUMER: a stopping worker with nothing pending leaves the group.</summary>
    public void AppendLeave(RedisBatch batch) => batch.Add(_leave);

    public void AppendAck(RedisBatch batch, List<OutcomeEntry> entries)
    {
        batch.EvalSha(QueueScripts.OutboxAck, 1, 1 + entries.Count).Arg(_key).Arg(_group);
        foreach (var e in entries) batch.Arg(e.EntryId);
    }

    /// <summary>XREADGROUP's reply: nil (nothing new) or [[stream, [[id, [field, value, ...]], ...]]].</summary>
    public static void ParseRead(RedisReply reply, List<OutcomeEntry> into)
    {
        reply.ThrowIfError();
        if (reply.IsNil) return;
        if (reply.Items is not { Length: 1 } streams || streams[0].Items is not { Length: 2 } stream)
            throw new RedisProtocolException("XREADGROUP: unexpected reply " + reply);
        ParseEntries(stream[1], into);
    }

    /// <summary>XAUTOCLAIM's reply: [next-cursor, [[id, [field, value, ...]], ...], [deleted ids]].</summary>
    public static void ParseClaim(RedisReply reply, List<OutcomeEntry> into)
    {
        reply.ThrowIfError();
        if (reply.Items is not { Length: >= 2 } parts) throw new RedisProtocolException("XAUTOCLAIM: unexpected reply " + reply);
        ParseEntries(parts[1], into);
    }

    private static void ParseEntries(RedisReply list, List<OutcomeEntry> into)
    {
        foreach (var item in list.Items ?? Array.Empty<RedisReply>())
        {
            // An entry deleted while pending comes back as nil (Redis 6.2) or without fields: nothing to write.
            if (item.Items is not { Length: 2 } entry || entry[1].Items is not { } fields) continue;
            var e = new OutcomeEntry { EntryId = entry[0].AsString() ?? "" };
            for (int i = 0; i + 1 < fields.Length; i += 2) Set(e, fields[i].AsString() ?? "", fields[i + 1].AsString() ?? "");
            into.Add(e);
        }
    }

    private static void Set(OutcomeEntry e, string field, string value)
    {
        switch (field)
        {
            case "id": e.JobId = value; break;
            case "seq": e.Seq = (int)Number(value); break;
            case "attempt": e.Attempt = (int)Number(value); break;
            case "max_attempts": e.MaxAttempts = (int)Number(value); break;
            case "type": e.Type = value; break;
            case "queue": e.Queue = value; break;
            case "state": e.State = value; break;
            case "recoveries": e.Recoveries = (int)Number(value); break;
            case "args": e.Args = value; break;
            case "text": e.Text = value; break;
            case "enqueued_at": e.EnqueuedAtMs = Number(value); break;
            case "started_at": e.StartedAtMs = Number(value); break;
            case "finished_at": e.FinishedAtMs = Number(value); break;
            case "worker": e.Worker = value; break;
        }
    }

    private static long Number(string s) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : 0;

    private static byte[] Ascii(long n) => Encoding.ASCII.GetBytes(n.ToString(CultureInfo.InvariantCulture));
}
