using System;

namespace Jobd.Config;

/// <summary>Suggests the known variable an unknown name was probably meant to be (edit distance).</summary>
internal static class DidYouMean
{
    public static string? Closest(string name, ConfigVariable[] known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var v in known)
        {
            int d = Distance(name, v.Name);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = v.Name;
            }
        }
        return bestDistance <= Math.Max(2, name.Length / 5) ? best : null;
    }

    /// <summary>Levenshtein distance, two rows.</summary>
    internal static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
