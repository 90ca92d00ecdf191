using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Jobd.Testing;

/// <summary>One sample of a scrape: metric name, labels, value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var v) && v == value;
}

/// <summary>
/// A small parser of the Prometheus text format 0.0.4, strict enough to catch a malformed exposition: HELP and
/// TYPE lines, samples "name{label="value",...} value", label values with \\, \" and \n escapes. Throws
/// <see cref="FormatException"/> naming the line on anything else.
/// </summary>
public sealed class PrometheusText
{
    public List<PrometheusSample> Samples { get; } = new();
    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Help { get; } = new(StringComparer.Ordinal);

    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("the exposition does not end with a newline");
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                int sp = rest.IndexOf(' ');
                if (sp <= 0) throw new FormatException("HELP without text: " + line);
                result.Help[rest[..sp]] = rest[(sp + 1)..];
            }
            else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                if (parts.Length != 2 || Array.IndexOf(new[] { "counter", "gauge", "histogram", "summary", "untyped" }, parts[1]) < 0)
                    throw new FormatException("bad TYPE line: " + line);
                if (result.Types.ContainsKey(parts[0])) throw new FormatException("second TYPE line for " + parts[0]);
                result.Types[parts[0]] = parts[1];
            }
            else if (line[0] == '#') continue;
            else result.Samples.Add(ParseSample(line));
        }
        return result;
    }

    private static PrometheusSample ParseSample(string line)
    {
        int i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':')) i++;
        if (i == 0 || char.IsAsciiDigit(line[0])) throw new FormatException("bad metric name: " + line);
        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int start = i;
                while (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_') i++;
                var label = line[start..i];
                if (label.Length == 0 || line[i] != '=' || line[i + 1] != '"') throw new FormatException("bad label: " + line);
                i += 2;
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch { 'n' => '\n', '\\' => '\\', '"' => '"', _ => throw new FormatException("bad escape: " + line) });
                    }
                    else value.Append(line[i]);
                    i++;
                }
                i++;
                if (!labels.TryAdd(label, value.ToString())) throw new FormatException("repeated label: " + line);
                if (line[i] == ',') i++;
                else if (line[i] != '}') throw new FormatException("bad label list: " + line);
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ') throw new FormatException("no value: " + line);
        var valueText = line[(i + 1)..].Split(' ')[0];
        double v = valueText switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new PrometheusSample(name, labels, v);
    }

    public IEnumerable<PrometheusSample> Named(string name)
    {
        foreach (var s in Samples)
            if (s.Name == name) yield return s;
    }

    /// <summary>The one sample of <paramref name="name"/> with these labels; throws when absent.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        foreach (var s in Samples)
        {
            if (s.Name != name || s.Labels.Count != labels.Length) continue;
            bool all = true;
            foreach (var (l, v) in labels) all &= s.Has(l, v);
            if (all) return s.Value;
        }
        throw new KeyNotFoundException("no sample " + name + " with " + string.Join(",", labels));
    }
}
