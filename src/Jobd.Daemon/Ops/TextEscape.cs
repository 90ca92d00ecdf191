using System.Text;

namespace Jobd.Ops;

/// <summary>
/// Makes untrusted text (job types, reasons, command-line arguments, server messages) safe to print on one line:
/// \n, \r and \t by name, any other control character as \uXXXX, so no value can forge a log line, a syslog
/// priority or a terminal sequence; optionally cut at a length with '…'. Clean text is returned as it is.
/// </summary>
public static class TextEscape
{
    public static string Escape(string? s, int max = int.MaxValue)
    {
        if (s is null) return "";
        if (s.Length <= max && IsClean(s)) return s;
        var sb = new StringBuilder(System.Math.Min(s.Length, max) + 8);
        int shown = 0;
        foreach (char c in s)
        {
            if (shown++ == max)
            {
                sb.Append('…');
                break;
            }
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    private static bool IsClean(string s)
    {
        foreach (char c in s)
            if (char.IsControl(c)) return false;
        return true;
    }
}
