using System.Text;

namespace Vetrina.Bench.Load;

/// <summary>
/// Writes request bytes into a connection's own buffer: constant parts are copied from pre-encoded arrays,
/// only the per-request parts (shopper id, idempotency key, numbers) are formatted each time.
/// </summary>
public sealed class RequestBuilder
{
    private const int BodyOffset = 2048;
    private readonly byte[] _buffer = new byte[4096];
    private int _length;
    private int _bodyStart = -1;

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>The constant head of every request to this server: host and, when given, the bearer key.</summary>
    public static string CommonHeaders(string hostAndPort, string? bearer) =>
        $"Host: {hostAndPort}\r\n" + (bearer is null ? "" : $"Authorization: Bearer {bearer}\r\n");

    public RequestBuilder Start()
    {
        _length = 0;
        _bodyStart = -1;
        return this;
    }

    public RequestBuilder Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
        return this;
    }

    public RequestBuilder Append(long number)
    {
        if (!number.TryFormat(_buffer.AsSpan(_length), out var written, provider: System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Request buffer too small.");
        }
        _length += written;
        return this;
    }

    /// <summary>Starts the body: what is appended until <see cref="EndBody"/> becomes the body.</summary>
    public RequestBuilder StartBody()
    {
        _bodyStart = BodyOffset;
        _length = BodyOffset;
        return this;
    }

    /// <summary>Ends the body; returns its length so the caller can write the head with it.</summary>
    public int EndBody(out int bodyStart)
    {
        bodyStart = _bodyStart;
        var length = _length - _bodyStart;
        _length = 0;
        return length;
    }

    /// <summary>Writes "Content-Length: n\r\n\r\n" then moves the body (formatted earlier) right after it.</summary>
    public ReadOnlyMemory<byte> FinishWithBody(int bodyStart, int bodyLength)
    {
        Append("Content-Length: "u8).Append(bodyLength).Append("\r\n\r\n"u8);
        if (_length > bodyStart)
        {
            throw new InvalidOperationException("Request head too long.");
        }
        _buffer.AsSpan(bodyStart, bodyLength).CopyTo(_buffer.AsSpan(_length));
        _length += bodyLength;
        return _buffer.AsMemory(0, _length);
    }

    /// <summary>The request as written (its head already ends with the empty line).</summary>
    public ReadOnlyMemory<byte> Finish() => _buffer.AsMemory(0, _length);
}
