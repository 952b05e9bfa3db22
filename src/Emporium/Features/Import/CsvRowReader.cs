using System.Text;

namespace Emporium.Features.Import;

/// <summary>One CSV record: its fields, the physical line it starts on, and why it is malformed (null when it is not).</summary>
public sealed record CsvRecord(long Line, string[] Fields, string? Error);

/// <summary>
/// An RFC 4180 reader that works on bytes, so it can stream a file of any size with one small buffer, tell the
/// physical line each record starts on, and reject a record with invalid UTF-8 while the rest of the file goes on.
/// Accepts CRLF, LF or CR record ends, line breaks and doubled quotes inside quoted fields, a UTF-8 BOM and a
/// missing final newline. Line breaks inside quoted fields are kept byte for byte. Blank lines are skipped.
/// </summary>
public sealed class CsvRowReader
{
    private const byte Quote = (byte)'"';
    private const byte Comma = (byte)',';
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';

    /// <summary>
    /// Far above any field the catalog accepts (10,000 characters are at most 40,000 bytes). A stray quote early in a
    /// large file makes the rest of it one field; past this the bytes are counted, not kept, so memory stays bounded.
    /// </summary>
    public const int MaxFieldBytes = 1024 * 1024;

    /// <summary>Likewise for a line of separators: a record keeps at most this many fields.</summary>
    public const int MaxFields = 1_000;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _position;
    private int _length;
    private bool _endOfStream;
    private bool _started;

    private State _state = State.FieldStart;
    private byte[] _field = new byte[256];
    private int _fieldLength;
    private readonly List<string> _fields = [];
    private string? _error;
    private bool _invalidUtf8;
    private bool _recordHasContent;
    private long _line = 1;

    /// <summary>A quoted run ended the buffer with a CR: whether it was a line of its own depends on the next byte (LF or not).</summary>
    private bool _quotedCrPending;
    private long _recordLine = 1;

    public CsvRowReader(Stream stream, int bufferSize = 64 * 1024)
    {
        _stream = stream;
        _buffer = new byte[Math.Max(bufferSize, 1024)];
    }

    private enum State
    {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
        AfterCr,
    }

    /// <summary>Bytes taken from the stream so far (read ahead by at most one buffer).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Bytes of the records returned so far (<see cref="BytesRead"/> without the read-ahead).</summary>
    public long BytesConsumed => BytesRead - (_length - _position);

    /// <summary>True when the first kilobyte holds a NUL byte: a binary file, not CSV text.</summary>
    public bool LooksBinary { get; private set; }

    /// <summary>True when the stream held no bytes at all, or only a BOM.</summary>
    public bool IsEmpty { get; private set; }

    /// <summary>The next record, or null at the end of the stream.</summary>
    public async ValueTask<CsvRecord?> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_position == _length)
            {
                if (_endOfStream)
                {
                    return Finish();
                }

                await FillAsync(cancellationToken);
                continue;
            }

            if (Scan() is { } record)
            {
                return record;
            }
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        _position = 0;
        _length = 0;
        // Fill at least the first kilobyte before looking for a BOM or NUL bytes, however the stream chunks its reads.
        var wanted = _started ? 1 : 1024;
        while (_length < wanted)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_length), cancellationToken);
            if (read == 0)
            {
                _endOfStream = true;
                break;
            }

            _length += read;
        }

        BytesRead += _length;
        if (!_started)
        {
            _started = true;
            if (_length >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
            {
                _position = 3;
            }

            IsEmpty = _length == _position;
            LooksBinary = _buffer.AsSpan(0, Math.Min(_length, 1024)).Contains((byte)0);
        }
    }

    /// <summary>Consumes buffered bytes until a record ends (returned) or the buffer is used up (null).</summary>
    private CsvRecord? Scan()
    {
        var buffer = _buffer;
        while (_position < _length)
        {
            var b = buffer[_position];
            switch (_state)
            {
                case State.AfterCr:
                    // The CR ended a record; swallow the LF of a CRLF and start the next record here.
                    if (b == Lf)
                    {
                        _position++;
                    }

                    _state = State.FieldStart;
                    continue;

                case State.FieldStart:
                    if (b == Quote)
                    {
                        _state = State.Quoted;
                        _recordHasContent = true;
                        _position++;
                        continue;
                    }

                    _state = State.Unquoted;
                    continue;

                case State.Unquoted:
                {
                    // Copy the run of ordinary bytes at once: most of a file is this.
                    var span = buffer.AsSpan(_position, _length - _position);
                    var stop = span.IndexOfAny(Comma, Cr, Lf);
                    var run = stop < 0 ? span : span[..stop];
                    Append(run);
                    _position += run.Length;
                    if (stop < 0)
                    {
                        return null;
                    }

                    _position++;
                    if (span[stop] == Comma)
                    {
                        EndField();
                        _recordHasContent = true;
                        _state = State.FieldStart;
                        continue;
                    }

                    var record = EndRecord();
                    _line++;
                    _state = span[stop] == Cr ? State.AfterCr : State.FieldStart;
                    _recordLine = _line;
                    if (record is not null)
                    {
                        return record;
                    }

                    continue;
                }

                case State.Quoted:
                {
                    var span = buffer.AsSpan(_position, _length - _position);
                    var stop = span.IndexOf(Quote);
                    var run = stop < 0 ? span : span[..stop];
                    Append(run);
                    _line += LineBreaksInQuotes(run, endsAtQuote: stop >= 0);
                    _position += run.Length;
                    if (stop < 0)
                    {
                        return null;
                    }

                    _position++;
                    _state = State.QuoteInQuoted;
                    continue;
                }

                case State.QuoteInQuoted:
                    if (b == Quote)
                    {
                        Append([Quote]);
                        _position++;
                        _state = State.Quoted;
                        continue;
                    }

                    if (b is Comma or Cr or Lf)
                    {
                        // The closing quote; the separator is handled as if the field were unquoted and empty from here.
                        _state = State.Unquoted;
                        continue;
                    }

                    _error ??= "text follows the closing quote of a field (a quote inside a quoted field must be doubled).";
                    _state = State.Unquoted;
                    continue;
            }
        }

        return null;
    }

    /// <summary>
    /// Line breaks inside a quoted field's run: LF, CRLF, and a CR alone (the break of files saved with CR line ends, which
    /// the reader accepts between records too), so line numbers after such a field stay right.
    /// </summary>
    private int LineBreaksInQuotes(ReadOnlySpan<byte> run, bool endsAtQuote)
    {
        var breaks = run.Count(Lf);
        if (_quotedCrPending)
        {
            _quotedCrPending = false;
            if (run.Length == 0 ? endsAtQuote : run[0] != Lf)
            {
                breaks++;
            }
        }

        for (var from = 0; run[from..].IndexOf(Cr) is var found and >= 0; from += found + 1)
        {
            var at = from + found;
            if (at + 1 < run.Length)
            {
                breaks += run[at + 1] == Lf ? 0 : 1;
            }
            else if (endsAtQuote)
            {
                breaks++;
            }
            else
            {
                _quotedCrPending = true;
            }
        }

        return breaks;
    }

    private CsvRecord? Finish()
    {
        switch (_state)
        {
            case State.Quoted:
                _error = "unterminated quoted field: the file ends inside quotes.";
                _state = State.FieldStart;
                return EndRecord(force: true);
            case State.Unquoted or State.QuoteInQuoted:
                _state = State.FieldStart;
                return EndRecord();
            case State.FieldStart when _fields.Count > 0:
                // "a,b," at the very end: the trailing separator opened one more (empty) field.
                return EndRecord();
            default:
                return null;
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_fieldLength + bytes.Length > MaxFieldBytes)
        {
            _error ??= $"a field is longer than {MaxFieldBytes / 1024 / 1024} MiB (often a quote that is never closed).";
            _recordHasContent = true;
            return;
        }

        if (_fieldLength + bytes.Length > _field.Length)
        {
            Array.Resize(ref _field, Math.Max(_field.Length * 2, _fieldLength + bytes.Length));
        }

        bytes.CopyTo(_field.AsSpan(_fieldLength));
        _fieldLength += bytes.Length;
        if (bytes.Length > 0)
        {
            _recordHasContent = true;
        }
    }

    private void EndField()
    {
        var bytes = _field.AsSpan(0, _fieldLength);
        string text;
        try
        {
            text = Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            _invalidUtf8 = true;
            text = Lenient.GetString(bytes);
        }

        if (_fields.Count < MaxFields)
        {
            _fields.Add(text);
        }
        else
        {
            _error ??= $"the row has more than {MaxFields:N0} fields.";
        }

        _fieldLength = 0;
    }

    private CsvRecord? EndRecord(bool force = false)
    {
        if (!_recordHasContent && !force && _fields.Count == 0)
        {
            // A blank line: not a record.
            _fieldLength = 0;
            return null;
        }

        EndField();
        var error = _invalidUtf8 ? "the row is not valid UTF-8 text." : _error;
        var record = new CsvRecord(_recordLine, [.. _fields], error);
        _fields.Clear();
        _error = null;
        _invalidUtf8 = false;
        _recordHasContent = false;
        return record;
    }
}
