namespace Jobd.Queue;

/// <summary>
/// What may appear inside a key or a log line: queue and type names, job ids, the prefix. The enqueue script
/// checks the same rules, so producers that skip this library cannot smuggle CR LF, braces, '*' or spaces in.
/// </summary>
public static class Names
{
    public const string QueueRule = "a queue name is 1-64 of A-Z a-z 0-9 _ -";
    public const string TypeRule = "a job type is 1-128 of A-Z a-z 0-9 _ . : -";
    public const string IdRule = "a job id is 1-64 of A-Z a-z 0-9 _ . : -";
    public const string PrefixRule = "a prefix is 1-32 of A-Z a-z 0-9 _ . -";
    public const int UniqueKeyMaxBytes = 200;

    public static bool IsQueue(string s) => Fits(s, 64, allowDot: false, allowColon: false);
    public static bool IsType(string s) => Fits(s, 128, allowDot: true, allowColon: true);
    public static bool IsId(string s) => Fits(s, 64, allowDot: true, allowColon: true);
    public static bool IsPrefix(string s) => Fits(s, 32, allowDot: true, allowColon: false);

    private static bool Fits(string s, int max, bool allowDot, bool allowColon)
    {
        if (s.Length is 0 || s.Length > max) return false;
        foreach (char c in s)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-') continue;
            if (c == '.' && allowDot || c == ':' && allowColon) continue;
            return false;
        }
        return true;
    }
}
