using System;
using System.Text;
using System.Text.Json;
using Jobd.Queue;

namespace Jobd.Cron;

/// <summary>
/// One schedule, from JOBD_CRON_&lt;NAME&gt;="&lt;expr&gt; &lt;type&gt; [&lt;args json&gt;] [queue=Q]": what to enqueue and when.
/// The expression is an @alias, or 5 or 6 fields: the words before the type are counted, the args object starts
/// at the first '{' and a last word queue=Q names the queue, so there is one reading of every value.
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
        string queue = "default";
        int lastSpace = text.LastIndexOfAny(new[] { ' ', '\t' });
        var lastWord = text[(lastSpace + 1)..];
        if (lastWord.StartsWith("queue=", StringComparison.Ordinal))
        {
            queue = lastWord[6..];
            if (!Names.IsQueue(queue))
            {
                error = $"queue {Q(queue)} is not valid; {Names.QueueRule}";
                return null;
            }
            text = lastSpace < 0 ? "" : text[..lastSpace].TrimEnd();
        }
        string args = "{}";
        int brace = text.IndexOf('{');
        if (brace >= 0)
        {
            args = text[brace..].Trim();
            if (!IsJsonObject(args, out var problem))
            {
                error = "args are not one JSON object: " + problem;
                return null;
            }
            text = text[..brace];
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

    private static bool IsJsonObject(string json, out string problem)
    {
        problem = "";
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "it does not start with '{'";
                return false;
            }
            reader.Skip();
            if (reader.Read())
            {
                problem = "text follows the object";
                return false;
            }
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
