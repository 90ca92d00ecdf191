// One row of the results table: a value per run (or why there is none), its reference from the same run, the
// PRODUCT.md target and the test of whether the median meets it.
using System;
using System.Collections.Generic;
using System.Globalization;

namespace Jobd.Bench;

internal sealed class Figure
{
    public Figure(string name, string unit, string target, Func<double, bool>? holds, string format = "0.##")
    {
        Name = name; Unit = unit; Target = target; Holds = holds; Format = format;
    }

    public string Name { get; }
    public string Unit { get; }
    public string Target { get; }
    public Func<double, bool>? Holds { get; }
    public string Format { get; }
    public List<double> Values { get; } = new();
    public List<double> References { get; } = new();
    public string ReferenceLabel { get; set; } = "";
    public string? Missing { get; set; }

    public void Add(double value) => Values.Add(value);

    public bool HasValue => Values.Count > 0;

    public double Median => MedianOf(Values);

    public static double MedianOf(List<double> v)
    {
        var s = new List<double>(v);
        s.Sort();
        return s.Count == 0 ? double.NaN : s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    public string ValueText()
    {
        if (!HasValue) return Missing ?? "n/a";
        string m = F(Median);
        if (Values.Count == 1) return $"{m} {Unit}";
        var s = new List<double>(Values);
        s.Sort();
        return $"{m} {Unit} ({F(s[0])}–{F(s[^1])})";
    }

    public string ReferenceText() =>
        References.Count == 0 ? ReferenceLabel : $"{ReferenceLabel} {F(MedianOf(References))}";

    public string HoldsText() => Holds is null ? "—" : !HasValue ? "n/a" : Holds(Median) ? "yes" : "**no**";

    private string F(double d) => d.ToString(Format, CultureInfo.InvariantCulture);
}
