using System.Collections.Generic;
using System.Text;

namespace Jobd.Handlers.Routes;

/// <summary>
/// Splits an exec route into argv once, at start-up: whitespace separates words; '…' keeps everything literal;
/// "…" keeps everything but \" and \\; a backslash outside quotes escapes the next character. No expansion of any
/// kind ($, *, ~, ;, |): the result goes to the program directly, never to a shell.
/// </summary>
public static class ArgvSplitter
{
    public static bool TrySplit(string text, out List<string> argv, out string? problem)
    {
        argv = new List<string>();
        problem = null;
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == ' ' || c == '\t')
            {
                if (inWord) { argv.Add(word.ToString()); word.Clear(); inWord = false; }
                continue;
            }
            inWord = true;
            if (c == '\'')
            {
                int end = text.IndexOf('\'', i + 1);
                if (end < 0) { problem = "unterminated ' quote"; return false; }
                word.Append(text, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '"')
            {
                i++;
                for (; i < text.Length && text[i] != '"'; i++)
                {
                    if (text[i] == '\\' && i + 1 < text.Length && (text[i + 1] == '"' || text[i + 1] == '\\')) i++;
                    word.Append(text[i]);
                }
                if (i >= text.Length) { problem = "unterminated \" quote"; return false; }
            }
            else if (c == '\\')
            {
                if (i + 1 >= text.Length) { problem = "a trailing backslash escapes nothing"; return false; }
                word.Append(text[++i]);
            }
            else if (char.IsControl(c))
            {
                problem = "control character in the command";
                return false;
            }
            else word.Append(c);
        }
        if (inWord) argv.Add(word.ToString());
        if (argv.Count == 0) { problem = "no program given"; return false; }
        return true;
    }
}
