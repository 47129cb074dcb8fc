using System.Net.Sockets;
using System.Text;

namespace OrderFlow.Api.Tests.Fuzzing;

/// <summary>What came back for bytes written straight onto a TCP connection.</summary>
/// <param name="Status">The status of the answer, or null when the server closed the connection without one.</param>
public sealed record RawAnswer(int? Status, string Head, string Body)
{
    public string? ContentType => Header("Content-Type");

    public string? Header(string name) => Head.Split("\r\n")
        .Skip(1)
        .Select(line => line.Split(':', 2))
        .Where(parts => parts.Length == 2 && parts[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
        .Select(parts => parts[1].Trim())
        .FirstOrDefault();
}

/// <summary>
/// Sends a request as raw bytes, for framing HttpClient will not produce (a lying Content-Length,
/// a broken chunk, bytes a header may not hold), and reads the first answer.
/// </summary>
public static class RawHttp
{
    /// <summary>A server that neither answers nor closes within this long is hanging.</summary>
    public static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(30);

    /// <param name="closeAfterSending">Shut down the sending side after the bytes (a body that ends early).</param>
    public static async Task<RawAnswer> SendAsync(Uri server, byte[] request, bool closeAfterSending)
    {
        using var client = new TcpClient();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        bound.CancelAfter(AnswerBound);
        await client.ConnectAsync(server.Host, server.Port, bound.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, bound.Token);
            if (closeAfterSending)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server may refuse and close before it has read everything; its answer is still there to read.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, bound.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (IsComplete(received.ToArray()))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // Reset by the server after (or instead of) an answer.
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No answer and no close within {AnswerBound.TotalSeconds:0} s.");
        }

        var text = Encoding.UTF8.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new RawAnswer(null, text, string.Empty);
        }

        var head = text[..end];
        var statusLine = head.Split("\r\n")[0].Split(' ');
        var answer = new RawAnswer(statusLine.Length > 1 && int.TryParse(statusLine[1], out var status) ? status : null, head, text[(end + 4)..]);
        return answer.Header("Transfer-Encoding") is { } encoding && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
            ? answer with { Body = Dechunk(answer.Body) }
            : answer;
    }

    private static string Dechunk(string chunked)
    {
        var body = new StringBuilder();
        var position = 0;
        while (position < chunked.Length)
        {
            var lineEnd = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            if (lineEnd < 0 || !int.TryParse(chunked.AsSpan(position, lineEnd - position), System.Globalization.NumberStyles.HexNumber, null, out var size) || size == 0)
            {
                break;
            }

            // Sizes count bytes; the answers here are ASCII JSON, where bytes and characters agree.
            body.Append(chunked, lineEnd + 2, Math.Min(size, chunked.Length - lineEnd - 2));
            position = lineEnd + 2 + size + 2;
        }

        return body.ToString();
    }

    /// <summary>The head has arrived, and the body too when its length is declared (the server may keep the connection open).</summary>
    private static bool IsComplete(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var answer = new RawAnswer(0, text[..end], string.Empty);
        if (answer.Header("Transfer-Encoding") is { } encoding && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            return text.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
        }

        return int.TryParse(answer.Header("Content-Length"), out var length) ? bytes.Length - Encoding.UTF8.GetByteCount(text[..(end + 4)]) >= length : true;
    }
}
