using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vetrina.Bench.Load;

/// <summary>
/// One keep-alive HTTP/1.1 connection over a raw socket. It sends pre-formatted request bytes and reads
/// only what it must: the status line, <c>Content-Length</c> or the end of a chunked body, and
/// <c>Connection: close</c>. Bodies are skipped, never parsed.
/// </summary>
public sealed class HttpConnection : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly IPEndPoint _server;
    private Socket? _socket;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public HttpConnection(IPEndPoint server)
    {
        _server = server;
    }

    public bool IsOpen => _socket is not null;

    public async ValueTask ConnectAsync(CancellationToken cancellation)
    {
        Close();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_server, cancellation);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        _start = _end = 0;
    }

    /// <summary>Closes the socket; a pending send or receive then fails (the time-out watchdog uses this).</summary>
    public void Close()
    {
        var socket = Interlocked.Exchange(ref _socket, null);
        socket?.Dispose();
    }

    public void Dispose() => Close();

    /// <summary>Sends one request and reads its response; returns the status code.</summary>
    public async ValueTask<int> ExchangeAsync(ReadOnlyMemory<byte> request)
    {
        var socket = _socket ?? throw new IOException("Not connected.");
        while (!request.IsEmpty)
        {
            var sent = await socket.SendAsync(request, SocketFlags.None);
            request = request[sent..];
        }
        return await ReadResponseAsync(socket);
    }

    private async ValueTask<int> ReadResponseAsync(Socket socket)
    {
        int headerLength;
        while ((headerLength = _buffer.AsSpan(_start, _end - _start).IndexOf(HeaderEnd)) < 0)
        {
            await FillAsync(socket);
        }
        var head = ParseHead(_buffer.AsSpan(_start, headerLength));
        _start += headerLength + HeaderEnd.Length;
        if (head.Chunked)
        {
            await SkipChunkedBodyAsync(socket);
        }
        else
        {
            await SkipAsync(socket, head.ContentLength);
        }
        if (head.Close)
        {
            Close();
        }
        return head.Status;
    }

    private readonly record struct ResponseHead(int Status, long ContentLength, bool Chunked, bool Close);

    private static ResponseHead ParseHead(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 201 Created"
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8))
        {
            throw new IOException("Not an HTTP/1.x response.");
        }
        var status = ((head[9] - '0') * 100) + ((head[10] - '0') * 10) + (head[11] - '0');
        long contentLength = 0;
        bool chunked = false, close = false;
        var lineEnd = head.IndexOf("\r\n"u8);
        while (lineEnd >= 0)
        {
            head = head[(lineEnd + 2)..];
            lineEnd = head.IndexOf("\r\n"u8);
            var line = lineEnd >= 0 ? head[..lineEnd] : head;
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (name.Length == 14 && Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!System.Buffers.Text.Utf8Parser.TryParse(value, out contentLength, out _))
                {
                    throw new IOException("Bad Content-Length.");
                }
            }
            else if (name.Length == 17 && Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                chunked = value.IndexOf("chunked"u8) >= 0;
            }
            else if (name.Length == 10 && Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                close = Ascii.EqualsIgnoreCase(value, "close"u8);
            }
        }
        return new ResponseHead(status, contentLength, chunked, close);
    }

    private async ValueTask SkipChunkedBodyAsync(Socket socket)
    {
        while (true)
        {
            var line = await ReadLineAsync(socket);
            var size = ChunkSize(_buffer.AsSpan(line.Start, line.Length));
            if (size == 0)
            {
                // Trailers, if any, end with an empty line.
                while ((await ReadLineAsync(socket)).Length > 0)
                {
                }
                return;
            }
            await SkipAsync(socket, size + 2);
        }
    }

    private static long ChunkSize(ReadOnlySpan<byte> line)
    {
        var extension = line.IndexOf((byte)';');
        if (extension >= 0)
        {
            line = line[..extension];
        }
        if (!System.Buffers.Text.Utf8Parser.TryParse(line.Trim((byte)' '), out long size, out _, 'X'))
        {
            throw new IOException("Bad chunk size.");
        }
        return size;
    }

    /// <summary>The next CRLF-terminated line (without the CRLF) as a range of the buffer, consumed.</summary>
    private async ValueTask<(int Start, int Length)> ReadLineAsync(Socket socket)
    {
        int length;
        while ((length = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            await FillAsync(socket);
        }
        var start = _start;
        _start += length + 2;
        return (start, length);
    }

    private async ValueTask SkipAsync(Socket socket, long count)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync(socket);
            }
            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    private async ValueTask FillAsync(Socket socket)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_start == 0)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            else
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
        }
        var read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
        if (read == 0)
        {
            throw new IOException("The server closed the connection.");
        }
        _end += read;
    }
}
