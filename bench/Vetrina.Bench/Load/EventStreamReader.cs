using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vetrina.Bench.Load;

/// <summary>How an event stream ended, if it did.</summary>
public enum StreamEnd
{
    /// <summary>Still open.</summary>
    Open,

    /// <summary>The driver closed it (the run is over).</summary>
    ByDriver,

    /// <summary>The server closed it, ended its chunked body, or the connection failed: a dropped viewer.</summary>
    ByServer,

    /// <summary>It never became a stream: no connection, or an answer other than 200.</summary>
    NotOpened,
}

/// <summary>
/// One server-sent event stream (<c>GET /api/lives/{id}/events</c>) on its own raw socket, read for as long as it is
/// open. Each receive takes the time once, undoes the chunked framing and parses the whole events it completes; a
/// stream keeps only what the checks need: the arrival time of each <c>pin</c> event, whether its product is the one
/// of the change of that rank, and whether event ids ever went back. With the driver's inline socket completions
/// this runs on the socket engine's threads, a few microseconds per event, no allocation per event.
/// </summary>
public sealed class EventStreamReader
{
    private static readonly byte[] PinnedField = "\"pinnedProductId\":\""u8.ToArray();
    private static readonly byte[] SoldOutField = "\"status\":\"soldOut\""u8.ToArray();

    private readonly IPEndPoint _server;
    private readonly byte[] _request;
    private readonly byte[]?[] _expectedPins;
    private readonly long[] _pinArrivals;
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _socket;
    private byte[] _raw = new byte[2048];
    private int _rawStart;
    private int _rawEnd;
    private byte[] _text = new byte[1024];
    private int _textLength;
    private Phase _phase = Phase.Head;
    private long _chunkLeft;
    private byte[]? _epoch;
    private long _lastSequence = -1;
    private int _pins;
    private long _soldOutArrival;
    private int _end;
    private bool _closing;

    /// <param name="expectedPins">The product of each pin change, in order (null: unpinned).</param>
    public EventStreamReader(IPEndPoint server, byte[] request, byte[]?[] expectedPins)
    {
        _server = server;
        _request = request;
        _expectedPins = expectedPins;
        _pinArrivals = new long[expectedPins.Length];
    }

    private enum Phase
    {
        Head,
        ChunkSize,
        ChunkData,
        ChunkEnd,
        Body,
        Over,
    }

    /// <summary>Completes once the stream has its snapshot (a <c>session</c> event), or has failed.</summary>
    public Task Settled => _settled.Task;

    /// <summary>The answer's status code (0 before it came).</summary>
    public int Status { get; private set; }

    public StreamEnd End => (StreamEnd)Volatile.Read(ref _end);

    /// <summary>Why the stream did not open or was dropped.</summary>
    public string? Error { get; private set; }

    /// <summary>True once the snapshot's <c>session</c> event came.</summary>
    public bool HasSnapshot { get; private set; }

    public int Events { get; private set; }

    public int KeepAlives { get; private set; }

    /// <summary>Pin events received so far.</summary>
    public int Pins => Volatile.Read(ref _pins);

    /// <summary>Pin events whose product was not that of the change of their rank, or beyond the last change.</summary>
    public int WrongPins { get; private set; }

    /// <summary>Deal events received so far.</summary>
    public int Deals { get; private set; }

    /// <summary>Stopwatch ticks at which the first deal event with status <c>soldOut</c> arrived (0: none yet).</summary>
    public long SoldOutArrival => Volatile.Read(ref _soldOutArrival);

    /// <summary>Events whose id went back, repeated a pin's id, or came from another epoch.</summary>
    public int BadIds { get; private set; }

    /// <summary>Stopwatch ticks at which the pin event of each change arrived (the first <see cref="Pins"/> are set).</summary>
    public ReadOnlySpan<long> PinArrivals => _pinArrivals.AsSpan(0, Math.Min(Pins, _pinArrivals.Length));

    /// <summary>Connects, sends the request and starts reading; failures end up in <see cref="End"/> and <see cref="Error"/>.</summary>
    public async Task OpenAsync(TimeSpan connectTimeout)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(connectTimeout);
            await socket.ConnectAsync(_server, timeout.Token);
            var request = _request.AsMemory();
            while (!request.IsEmpty)
            {
                request = request[await socket.SendAsync(request, SocketFlags.None)..];
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            socket.Dispose();
            Finish(StreamEnd.NotOpened, $"connect: {e.Message}");
            return;
        }
        _socket = socket;
        _ = ReadAsync(socket);
    }

    /// <summary>The driver is done with the stream.</summary>
    public void Close()
    {
        Volatile.Write(ref _closing, true);
        Interlocked.Exchange(ref _socket, null)?.Dispose();
        Finish(StreamEnd.ByDriver, null);
    }

    private async Task ReadAsync(Socket socket)
    {
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(_raw.AsMemory(_rawEnd), SocketFlags.None);
                var now = Stopwatch.GetTimestamp();
                if (read == 0)
                {
                    Drop("the server closed the connection");
                    return;
                }
                _rawEnd += read;
                Consume(now);
                if (_phase == Phase.Over)
                {
                    return;
                }
                MakeRoom();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or FormatException)
        {
            if (!Volatile.Read(ref _closing))
            {
                Drop(e.Message);
            }
        }
    }

    private void Drop(string why)
    {
        _phase = Phase.Over;
        Finish(Status == 200 ? StreamEnd.ByServer : StreamEnd.NotOpened, why);
        Interlocked.Exchange(ref _socket, null)?.Dispose();
    }

    private void Finish(StreamEnd end, string? why)
    {
        if (Interlocked.CompareExchange(ref _end, (int)end, (int)StreamEnd.Open) == (int)StreamEnd.Open)
        {
            Error = why;
        }
        _settled.TrySetResult();
    }

    private void MakeRoom()
    {
        if (_rawStart == _rawEnd)
        {
            _rawStart = _rawEnd = 0;
        }
        else if (_rawEnd == _raw.Length)
        {
            if (_rawStart == 0)
            {
                Array.Resize(ref _raw, _raw.Length * 2);
            }
            else
            {
                _raw.AsSpan(_rawStart, _rawEnd - _rawStart).CopyTo(_raw);
                _rawEnd -= _rawStart;
                _rawStart = 0;
            }
        }
    }

    /// <summary>Everything the buffer completes: the response head, then chunk framing around the event text.</summary>
    private void Consume(long now)
    {
        while (true)
        {
            var data = _raw.AsSpan(_rawStart, _rawEnd - _rawStart);
            switch (_phase)
            {
                case Phase.Head:
                    var headLength = data.IndexOf("\r\n\r\n"u8);
                    if (headLength < 0)
                    {
                        return;
                    }
                    var chunked = ParseHead(data[..headLength]);
                    _rawStart += headLength + 4;
                    if (Status != 200)
                    {
                        Drop($"answered {Status}");
                        return;
                    }
                    _phase = chunked ? Phase.ChunkSize : Phase.Body;
                    break;
                case Phase.ChunkSize:
                    var lineLength = data.IndexOf("\r\n"u8);
                    if (lineLength < 0)
                    {
                        return;
                    }
                    var line = data[..lineLength];
                    var extension = line.IndexOf((byte)';');
                    if (!System.Buffers.Text.Utf8Parser.TryParse(extension >= 0 ? line[..extension] : line, out long size, out _, 'X'))
                    {
                        throw new FormatException("Bad chunk size.");
                    }
                    _rawStart += lineLength + 2;
                    if (size == 0)
                    {
                        Drop("the server ended the stream");
                        return;
                    }
                    _chunkLeft = size;
                    _phase = Phase.ChunkData;
                    break;
                case Phase.ChunkData:
                    if (data.IsEmpty)
                    {
                        return;
                    }
                    var take = (int)Math.Min(_chunkLeft, data.Length);
                    Text(data[..take], now);
                    _rawStart += take;
                    _chunkLeft -= take;
                    if (_chunkLeft == 0)
                    {
                        _phase = Phase.ChunkEnd;
                    }
                    break;
                case Phase.ChunkEnd:
                    if (data.Length < 2)
                    {
                        return;
                    }
                    _rawStart += 2;
                    _phase = Phase.ChunkSize;
                    break;
                case Phase.Body:
                    if (data.IsEmpty)
                    {
                        return;
                    }
                    Text(data, now);
                    _rawStart = _rawEnd;
                    break;
                default:
                    return;
            }
        }
    }

    /// <summary>Status code; true when the body is chunked.</summary>
    private bool ParseHead(ReadOnlySpan<byte> head)
    {
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8))
        {
            throw new FormatException("Not an HTTP/1.x response.");
        }
        Status = ((head[9] - '0') * 100) + ((head[10] - '0') * 10) + (head[11] - '0');
        var chunked = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            var header = head[range];
            var colon = header.IndexOf((byte)':');
            if (colon == 17 && Ascii.EqualsIgnoreCase(header[..colon], "transfer-encoding"u8))
            {
                chunked = header[(colon + 1)..].IndexOf("chunked"u8) >= 0;
            }
        }
        return chunked;
    }

    /// <summary>Event text: appended, then every whole event (ended by an empty line) is handled.</summary>
    private void Text(ReadOnlySpan<byte> text, long now)
    {
        if (_textLength + text.Length > _text.Length)
        {
            Array.Resize(ref _text, Math.Max(_text.Length * 2, _textLength + text.Length));
        }
        text.CopyTo(_text.AsSpan(_textLength));
        _textLength += text.Length;
        var done = 0;
        int length;
        while ((length = _text.AsSpan(done, _textLength - done).IndexOf("\n\n"u8)) >= 0)
        {
            Event(_text.AsSpan(done, length), now);
            done += length + 2;
        }
        if (done > 0)
        {
            _text.AsSpan(done, _textLength - done).CopyTo(_text);
            _textLength -= done;
        }
    }

    private void Event(ReadOnlySpan<byte> block, long now)
    {
        ReadOnlySpan<byte> id = default, kind = default, data = default;
        foreach (var range in block.Split((byte)'\n'))
        {
            var line = block[range];
            if (line.StartsWith("id: "u8))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: "u8))
            {
                kind = line[7..];
            }
            else if (line.StartsWith("data: "u8))
            {
                data = line[6..];
            }
            else if (line.SequenceEqual(": keep-alive"u8))
            {
                KeepAlives++;
            }
        }
        if (kind.IsEmpty)
        {
            return;
        }
        Events++;
        var pin = kind.SequenceEqual("pin"u8);
        CheckId(id, pin);
        if (pin)
        {
            var rank = _pins;
            if (rank >= _expectedPins.Length || !PinnedProduct(data).SequenceEqual(_expectedPins[rank]))
            {
                WrongPins++;
            }
            if (rank < _pinArrivals.Length)
            {
                _pinArrivals[rank] = now;
            }
            Volatile.Write(ref _pins, rank + 1);
        }
        else if (kind.SequenceEqual("deal"u8))
        {
            Deals++;
            if (SoldOutArrival == 0 && data.IndexOf(SoldOutField) >= 0)
            {
                Volatile.Write(ref _soldOutArrival, now);
            }
        }
        else if (!HasSnapshot && kind.SequenceEqual("session"u8))
        {
            HasSnapshot = true;
            _settled.TrySetResult();
        }
    }

    /// <summary>Ids are <c>{epoch}-{sequence}</c>: one epoch, never back; the snapshot's events share one id, a pin never does.</summary>
    private void CheckId(ReadOnlySpan<byte> id, bool pin)
    {
        var dash = id.LastIndexOf((byte)'-');
        if (dash <= 0 || !System.Buffers.Text.Utf8Parser.TryParse(id[(dash + 1)..], out long sequence, out var used) || used != id.Length - dash - 1)
        {
            BadIds++;
            return;
        }
        var epoch = id[..dash];
        if (_epoch is null)
        {
            _epoch = epoch.ToArray();
        }
        else if (!epoch.SequenceEqual(_epoch))
        {
            BadIds++;
        }
        if (sequence < _lastSequence || (pin && sequence == _lastSequence))
        {
            BadIds++;
        }
        _lastSequence = sequence;
    }

    private static ReadOnlySpan<byte> PinnedProduct(ReadOnlySpan<byte> data)
    {
        var at = data.IndexOf(PinnedField);
        if (at < 0)
        {
            return default;
        }
        var value = data[(at + PinnedField.Length)..];
        var end = value.IndexOf((byte)'"');
        return end < 0 ? default : value[..end];
    }

    /// <summary>The request of one stream: anonymous, like a viewer's.</summary>
    public static byte[] Request(string hostAndPort, string sessionId) =>
        Encoding.ASCII.GetBytes($"GET /api/lives/{sessionId}/events HTTP/1.1\r\nHost: {hostAndPort}\r\nAccept: text/event-stream\r\n\r\n");
}
