using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Jobd.Ops;

/// <summary>
/// jobd's log: one line per event on stderr, as text (terminals), JSON lines (containers) or with syslog priority
/// prefixes (journald). Control characters in messages are escaped so no value can forge a line or a priority.
/// Callers check <see cref="IsEnabled"/> before building a message below Info, so nothing is formatted for
/// a level that is off. A closed or broken stderr never stops jobd: the line is dropped and counted.
/// </summary>
public sealed class Log
{
    private readonly Stream _out;
    private readonly LogFormat _format;
    private readonly LogLevel _min;
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private long _dropped;

    public Log(Stream output, LogFormat format, LogLevel min, TimeProvider clock)
    {
        _out = output;
        _format = format == LogFormat.Auto ? LogFormat.Text : format;
        _min = min;
        _clock = clock;
    }

    public static Log Stderr(LogFormat format, LogLevel min) =>
        new(SafeConsole.OpenStderr(), format, min, TimeProvider.System);

    public long DroppedLines => _dropped;

    public bool IsEnabled(LogLevel level) => level >= _min;

    public void Debug(string message) => Write(LogLevel.Debug, message);
    public void Info(string message) => Write(LogLevel.Info, message);
    public void Warn(string message) => Write(LogLevel.Warn, message);
    public void Error(string message) => Write(LogLevel.Error, message);

    public void Write(LogLevel level, string message)
    {
        if (level < _min) return;
        lock (_gate)
        {
            _buffer.Clear();
            switch (_format)
            {
                case LogFormat.Json: WriteJson(level, message); break;
                case LogFormat.Journal: WriteJournal(level, message); break;
                default: WriteText(level, message); break;
            }
            try
            {
                _out.Write(_buffer.WrittenSpan);
                _out.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
            {
                // A closed descriptor surfaces as UnauthorizedAccessException (EBADF), a gone reader as IOException.
                _dropped++;
            }
        }
    }

    private void WriteText(LogLevel level, string message)
    {
        var ts = _clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Append(ts);
        Append(level switch { LogLevel.Debug => " debug ", LogLevel.Info => " info  ", LogLevel.Warn => " warn  ", _ => " error " });
        AppendEscaped(message);
        Append("\n");
    }

    private void WriteJournal(LogLevel level, string message)
    {
        // sd-daemon(3) priorities: 3 err, 4 warning, 6 info, 7 debug.
        Append(level switch { LogLevel.Debug => "<7>", LogLevel.Info => "<6>", LogLevel.Warn => "<4>", _ => "<3>" });
        AppendEscaped(message);
        Append("\n");
    }

    private void WriteJson(LogLevel level, string message)
    {
        using (var w = new Utf8JsonWriter(_buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", _clock.GetUtcNow().UtcDateTime);
            w.WriteString("level", level switch { LogLevel.Debug => "debug", LogLevel.Info => "info", LogLevel.Warn => "warn", _ => "error" });
            w.WriteString("msg", message);
            w.WriteEndObject();
        }
        Append("\n");
    }

    private void Append(string s)
    {
        var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        _buffer.Advance(Encoding.UTF8.GetBytes(s, span));
    }

    private void AppendEscaped(string s)
    {
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (!char.IsControl(c)) continue;
            Append(s.Substring(start, i - start));
            Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => "\\u" + ((int)c).ToString("x4") });
            start = i + 1;
        }
        Append(start == 0 ? s : s.Substring(start));
    }
}
