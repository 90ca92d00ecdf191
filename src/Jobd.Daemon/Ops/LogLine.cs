using System;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Jobd.Ops;

/// <summary>A log level known when the call is compiled, so a <see cref="LogLine{TLevel}"/> can ask the log first.</summary>
public interface ILogLevel
{
    static abstract LogLevel Level { get; }
}

public readonly struct DebugLevel : ILogLevel { public static LogLevel Level => LogLevel.Debug; }
public readonly struct InfoLevel : ILogLevel { public static LogLevel Level => LogLevel.Info; }
public readonly struct WarnLevel : ILogLevel { public static LogLevel Level => LogLevel.Warn; }

/// <summary>
/// The text of <c>log.Debug($"…")</c>, <c>log.Info($"…")</c> and <c>log.Warn($"…")</c>, built only when that level
/// is on. The compiler constructs the handler first and, when it answers "off", skips every hole: no value is
/// formatted and no hole's expression is even evaluated (so holes must have no side effects). Holes are formatted
/// with the invariant culture, from a pooled buffer. Error lines need no handler: error is always on.
/// </summary>
[InterpolatedStringHandler]
public ref struct LogLine<TLevel> where TLevel : struct, ILogLevel
{
    private DefaultInterpolatedStringHandler _text;
    private readonly bool _enabled;

    public LogLine(int literalLength, int formattedCount, Log log, out bool enabled)
    {
        _enabled = enabled = log.IsEnabled(TLevel.Level);
        _text = enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture) : default;
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

    public void AppendFormatted(ReadOnlySpan<char> value) => _text.AppendFormatted(value);

    public void AppendFormatted(string? value) => _text.AppendFormatted(value);

    /// <summary>The line's text, or null when its level is off (nothing was built).</summary>
    internal string? ToStringAndClear() => _enabled ? _text.ToStringAndClear() : null;
}
