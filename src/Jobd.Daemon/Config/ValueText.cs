using System.Text;

namespace Jobd.Config;

/// <summary>Quotes a user-supplied value for an error line: control characters escaped, long values cut.</summary>
internal static class ValueText
{
    private const int MaxShownChars = 40;

    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        int shown = 0;
        foreach (char c in value)
        {
            if (shown++ == MaxShownChars)
            {
                sb.Append("…");
                break;
            }
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}
