using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Jobd.Ops;

/// <summary>
/// jobd's log: one line per event on stderr, as text (terminals), JSON lines (containers) or with syslog priority
/// prefixes (journald). Control characters in messages are escaped so no value can forge a line or a priority.
/// Nothing is formatted for a level that is off: an interpolated message to Debug, Info or Warn goes through
/// <see cref="LogLine{TLevel}"/>, which asks <see cref="IsEnabled"/> before any hole is formatted, and a caller that
/// builds its text otherwise checks <see cref="IsEnabled"/> first. Lines are written by one background thread from a bounded queue, so a log reader that
/// stalls (a stopped pipe, a full disk) never blocks the execution loop or the signal handler: when the queue
/// is full, lines are dropped and counted, and a note says how many once writing works again. A closed or
/// broken stderr likewise drops and counts lines.
/// </summary>
public sealed class Log
{
    private readonly Stream _out;
    private readonly LogFormat _format;
    private readonly LogLevel _min;
    private readonly TimeProvider _clock;
    public const int MaxQueuedLines = 1024;
    private readonly object _gate = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Queue<byte[]> _queue = new();
    private long _dropped;
    private long _droppedReported;
    private bool _writing;
    private Thread? _writer;

    public Log(Stream output, LogFormat format, LogLevel min, TimeProvider clock)
    {
        _out = output;
        _format = format == LogFormat.Auto ? LogFormat.Text : format;
        _min = min;
        _clock = clock;
    }

    public static Log Stderr(LogFormat format, LogLevel min) =>
        new(SafeConsole.OpenStderr(), format, min, TimeProvider.System);

    public long DroppedLines => Interlocked.Read(ref _dropped);

    public bool IsEnabled(LogLevel level) => level >= _min;

    public void Debug(string message) => Write(LogLevel.Debug, message);
    public void Info(string message) => Write(LogLevel.Info, message);
    public void Warn(string message) => Write(LogLevel.Warn, message);
    public void Error(string message) => Write(LogLevel.Error, message);

    public void Debug([InterpolatedStringHandlerArgument("")] ref LogLine<DebugLevel> message) => Write(LogLevel.Debug, message.ToStringAndClear());
    public void Info([InterpolatedStringHandlerArgument("")] ref LogLine<InfoLevel> message) => Write(LogLevel.Info, message.ToStringAndClear());
    public void Warn([InterpolatedStringHandlerArgument("")] ref LogLine<WarnLevel> message) => Write(LogLevel.Warn, message.ToStringAndClear());

    /// <param name="message">Null only from a <see cref="LogLine{TLevel}"/> whose level is off: nothing to write.</param>
    public void Write(LogLevel level, string? message)
    {
        if (level < _min || message is null) return;
        var line = Format(level, message);
        lock (_queue)
        {
            if (_queue.Count >= MaxQueuedLines)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            _queue.Enqueue(line);
            if (_writer is null)
            {
                _writer = new Thread(WriteLoop) { IsBackground = true, Name = "jobd-log" };
                _writer.Start();
            }
            Monitor.Pulse(_queue);
        }
    }

    /// <summary>Waits until every queued line is written, or <paramref name="timeout"/> passes (a stalled reader).</summary>
    public bool Flush(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_queue)
        {
            while (_queue.Count > 0 || _writing)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_queue, left)) return false;
            }
        }
        return true;
    }

    private void WriteLoop()
    {
        while (true)
        {
            byte[] line;
            lock (_queue)
            {
                _writing = false;
                Monitor.PulseAll(_queue);
                while (_queue.Count == 0) Monitor.Wait(_queue);
                line = _queue.Dequeue();
                _writing = true;
            }
            long dropped = Interlocked.Read(ref _dropped);
            if (dropped != _droppedReported && Emit(NoteOfDropped(dropped - _droppedReported)))
                _droppedReported = dropped;
            if (!Emit(line)) Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>
    /// Formatted like every line (time, level), at warn, or at the active level when that is higher: lost lines
    /// are worth a line at any level, and a line below the level would break the promise of the level.
    /// </summary>
    private byte[] NoteOfDropped(long n) =>
        Format(_min > LogLevel.Warn ? _min : LogLevel.Warn,
            n.ToString(System.Globalization.CultureInfo.InvariantCulture) + " log lines dropped: the log reader was not keeping up");

    /// <summary>One finished line in the chosen format, newline included.</summary>
    private byte[] Format(LogLevel level, string message)
    {
        lock (_gate)
        {
            _buffer.Clear();
            switch (_format)
            {
                case LogFormat.Json: WriteJson(level, message); break;
                case LogFormat.Journal: WriteJournal(level, message); break;
                default: WriteText(level, message); break;
            }
            return _buffer.WrittenSpan.ToArray();
        }
    }

    private bool Emit(byte[] bytes)
    {
        try
        {
            _out.Write(bytes);
            _out.Flush();
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            // A closed descriptor surfaces as UnauthorizedAccessException (EBADF), a gone reader as IOException.
            return false;
        }
    }

    private void WriteText(LogLevel level, string message)
    {
        var ts = _clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Append(ts);
        Append(level switch { LogLevel.Debug => " debug ", LogLevel.Info => " info  ", LogLevel.Warn => " warn  ", _ => " error " });
        Append(TextEscape.Escape(message));
        Append("\n");
    }

    private void WriteJournal(LogLevel level, string message)
    {
        // sd-daemon(3) priorities: 3 err, 4 warning, 6 info, 7 debug.
        Append(level switch { LogLevel.Debug => "<7>", LogLevel.Info => "<6>", LogLevel.Warn => "<4>", _ => "<3>" });
        Append(TextEscape.Escape(message));
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

}
