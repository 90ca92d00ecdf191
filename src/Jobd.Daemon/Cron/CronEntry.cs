using System;
using System.Text;
using System.Text.Json;
using Jobd.Queue;

namespace Jobd.Cron;

/// <summary>
/// One schedule, from JOBD_CRON_&lt;NAME&gt;="&lt;expr&gt; &lt;type&gt; [&lt;args json&gt;] [queue=Q]": what to enqueue and when.
/// The expression is an @alias, or 5 or 6 fields: the words before the type are counted, the args object starts
/// at the first '{' and ends where that JSON object ends, and only after it (or after the type, without args) may
/// a last word queue=Q name the queue, so there is one reading of every value: "queue=" inside the args is data.
/// </summary>
public sealed class CronEntry
{
    public const int NameMaxLength = 40;
    public const string NameRule = "a schedule name is 1-40 of A-Z a-z 0-9 _";
    public const string Form = "\"EXPRESSION TYPE [ARGS_JSON] [queue=Q]\"";

    private CronEntry(string name, CronSchedule schedule, string type, string argsJson, string queue)
    {
        Name = name;
        Schedule = schedule;
        Type = type;
        ArgsJson = argsJson;
        Queue = queue;
    }

    public string Name { get; }
    public CronSchedule Schedule { get; }
    public CronExpression Expression => Schedule.Expression;
    public string Type { get; }
    public string ArgsJson { get; }
    public string Queue { get; }

    /// <summary>The job id of the fire at <paramref name="fireMs"/>: the same on every replica (at most 59 characters).</summary>
    public string JobId(long fireMs) => "cron:" + Name + ":" + fireMs.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static bool IsName(string s)
    {
        if (s.Length is 0 or > NameMaxLength) return false;
        foreach (char c in s)
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        return true;
    }

    /// <summary>Parses one value; null with a one-line <paramref name="error"/> when it is malformed.</summary>
    public static CronEntry? Parse(string name, string value, TimeZoneInfo zone, out string error)
    {
        var text = value.Trim();
        string args = "{}";
        string tail; // what may name the queue: the text after the args object, or the last word before it
        int brace = text.IndexOf('{');
        if (brace >= 0)
        {
            if (!TrySplitObject(text[brace..], out args, out tail, out var problem))
            {
                error = "args are not one JSON object: " + problem;
                return null;
            }
            text = text[..brace];
        }
        else
        {
            int lastSpace = text.LastIndexOfAny(new[] { ' ', '\t' });
            tail = text[(lastSpace + 1)..];
            if (tail.StartsWith("queue=", StringComparison.Ordinal)) text = lastSpace < 0 ? "" : text[..lastSpace];
            else tail = "";
        }
        string queue = "default";
        if (tail.Length > 0)
        {
            if (!tail.StartsWith("queue=", StringComparison.Ordinal) || tail.AsSpan().IndexOfAny(' ', '\t') >= 0)
            {
                error = $"args are not one JSON object: text follows the object ({Q(tail)}); only queue=Q may follow the args";
                return null;
            }
            queue = tail[6..];
            if (!Names.IsQueue(queue))
            {
                error = $"queue {Q(queue)} is not valid; {Names.QueueRule}";
                return null;
            }
        }
        var words = text.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        int exprWords = words.Length > 0 && words[0].StartsWith('@') ? 1 : words.Length - 1;
        if (words.Length < 2 || exprWords is not (1 or 5 or 6))
        {
            error = $"expected {Form}, got {words.Length} word(s) before the args";
            return null;
        }
        if (exprWords != words.Length - 1)
        {
            error = $"expected {Form}: after an @alias comes only the type, got {Q(words[1])} {Q(words[2])}";
            return null;
        }
        var type = words[^1];
        if (!Names.IsType(type))
        {
            error = $"type {Q(type)} is not valid; {Names.TypeRule}";
            return null;
        }
        var exprText = string.Join(' ', words, 0, exprWords);
        if (!CronExpression.TryParse(exprText, out var expression, out var exprError))
        {
            error = $"cron expression {Q(exprText)}: {exprError}";
            return null;
        }
        var schedule = new CronSchedule(expression!, zone);
        if (schedule.NextAfter(DateTime.UtcNow) is null)
        {
            error = $"cron expression {Q(exprText)} never fires (no matching date in {CronExpression.SearchYears} years, e.g. 30 February)";
            return null;
        }
        error = "";
        return new CronEntry(name, schedule, type, args, queue);
    }

    /// <summary>Splits "{…} rest" into the JSON object (exactly as written) and the trimmed rest.</summary>
    private static bool TrySplitObject(string text, out string json, out string rest, out string problem)
    {
        json = rest = problem = "";
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "it does not start with '{'";
                return false;
            }
            reader.Skip();
            int end = (int)reader.BytesConsumed;
            json = Encoding.UTF8.GetString(bytes, 0, end);
            rest = Encoding.UTF8.GetString(bytes, end, bytes.Length - end).Trim();
            return true;
        }
        catch (JsonException e)
        {
            // The reader's own message is a bare resource key in the AOT build: say where instead.
            problem = $"malformed or incomplete JSON at byte {e.BytePositionInLine ?? 0}";
            return false;
        }
    }

    private static string Q(string s) => Jobd.Config.ValueText.Quote(s);
}
