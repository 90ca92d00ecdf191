// drain.svg: jobs done (left axis) and worker RSS (right axis) over time during the one-worker drain, drawn as
// two polylines; no plotting library.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Jobd.Bench;

internal static class DrainChart
{
    private const int W = 720, H = 360, L = 70, R = 70, T = 30, B = 45;

    public static string Svg(List<DrainSample> samples, int total)
    {
        double maxT = 0.001, maxRss = 1;
        foreach (var s in samples) { maxT = Math.Max(maxT, s.Seconds); maxRss = Math.Max(maxRss, s.RssMb); }
        maxRss = Math.Ceiling(maxRss / 4) * 4;
        double pw = W - L - R, ph = H - T - B;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{W / 2}\" y=\"18\" text-anchor=\"middle\">one jobd worker draining {total:N0} no-op jobs (outcomes to Postgres)</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{L}\" y=\"{T}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double y = T + ph - ph * i / 4;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{L}\" x2=\"{L + pw}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#eee\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" fill=\"#1f77b4\">{total * i / 4:N0}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L + pw + 6}\" y=\"{y + 4:0.#}\" fill=\"#d62728\">{maxRss * i / 4:0.#} MB</text>\n");
            double x = L + pw * i / 4;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.#}\" y=\"{T + ph + 16}\" text-anchor=\"middle\">{maxT * i / 4:0.0} s</text>\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L + pw / 2}\" y=\"{H - 8}\" text-anchor=\"middle\">seconds since jobd started</text>\n");
        sb.Append(Line(samples, s => s.Done / (double)Math.Max(1, total), maxT, pw, ph, "#1f77b4"));
        sb.Append(Line(samples, s => s.RssMb / maxRss, maxT, pw, ph, "#d62728"));
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L + 8}\" y=\"{T + 16}\" fill=\"#1f77b4\">jobs done</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L + 8}\" y=\"{T + 32}\" fill=\"#d62728\">RSS (VmRSS, every 100 ms)</text>\n</svg>\n");
        return sb.ToString();
    }

    private static string Line(List<DrainSample> samples, Func<DrainSample, double> y, double maxT, double pw, double ph, string color)
    {
        var sb = new StringBuilder("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").Append(color).Append("\" points=\"");
        foreach (var s in samples)
            sb.Append(CultureInfo.InvariantCulture, $"{L + pw * s.Seconds / maxT:0.#},{T + ph - ph * Math.Clamp(y(s), 0, 1):0.#} ");
        return sb.Append("\"/>\n").ToString();
    }
}
