using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>An HTTP answer as it came off the socket (null status: the server closed or reset without answering).</summary>
public sealed record RawAnswer(int? Status, string Head, string Body)
{
    public string Header(string name) =>
        Head.Split("\r\n").Skip(1)
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(parts => parts[1].Trim())
            .FirstOrDefault() ?? string.Empty;

    /// <summary>Asserts a status and a problem document of that status (and of <paramref name="type"/>, if given).</summary>
    public void AssertProblem(int status, string? type = null)
    {
        Assert.True(Status == status, $"Expected {status}, got {Status?.ToString(CultureInfo.InvariantCulture) ?? "no answer"}:\n{Head}\n{Body}");
        Assert.StartsWith("application/problem+json", Header("Content-Type"), StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(Body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("type").GetString()), Body);
        Assert.True(problem.RootElement.TryGetProperty("traceId", out var traceId) && !string.IsNullOrEmpty(traceId.GetString()), $"No traceId: {Body}");
        if (type is not null)
        {
            Assert.Equal(type, problem.RootElement.GetProperty("type").GetString());
        }
    }

    /// <summary>Asserts a complete answer that is not a server error.</summary>
    public void AssertAnsweredWithoutServerError()
    {
        Assert.True(Status is >= 200 and < 500, $"Expected an answer below 500, got {Status?.ToString(CultureInfo.InvariantCulture) ?? "no answer"}:\n{Head}\n{Body}");
    }
}

/// <summary>
/// Sends hand-written request bytes over a TCP socket to the real Kestrel host and reads the first
/// answer, so that framing HttpClient would never produce (malformed chunks, lying lengths, bad
/// header bytes) reaches the server.
/// </summary>
public static class RawHttp
{
    /// <param name="request">The bytes to send, written as they are.</param>
    /// <param name="answerWithin">How long to wait for an answer before failing the test: a server that never answers hangs its clients.</param>
    /// <param name="closeSending">
    /// Shut the sending side down after the bytes (a body that ends early). Kestrel takes a
    /// half-closed connection for a client that went away and may close without answering.
    /// </param>
    public static async Task<RawAnswer> SendAsync(Uri server, byte[] request, TimeSpan? answerWithin = null, bool closeSending = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(answerWithin ?? TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, timeout.Token);
            if (closeSending)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything: read what it said.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (!IsComplete(received.ToArray()))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"No complete answer within {(answerWithin ?? TimeSpan.FromSeconds(30)).TotalSeconds:0} s; received so far: {Encoding.UTF8.GetString(received.ToArray())}");
        }
        catch (IOException)
        {
            // Reset by the server, after its answer or instead of one.
            if (received.Length == 0)
            {
                return new RawAnswer(null, string.Empty, string.Empty);
            }
        }

        return Parse(received.ToArray());
    }

    public static Task<RawAnswer> SendAsync(Uri server, string request, TimeSpan? answerWithin = null) =>
        SendAsync(server, Encoding.Latin1.GetBytes(request), answerWithin);

    private static bool IsComplete(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var head = text[..end];
        var body = text[(end + 4)..];
        var answer = new RawAnswer(0, head, body);
        if (answer.Header("Transfer-Encoding").Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            return body.Contains("0\r\n\r\n", StringComparison.Ordinal);
        }

        return int.TryParse(answer.Header("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            ? Encoding.Latin1.GetByteCount(body) >= length
            : false; // no length: the answer ends when the server closes
    }

    private static RawAnswer Parse(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new RawAnswer(null, text, string.Empty);
        }

        var head = text[..end];
        var body = text[(end + 4)..];
        var statusLine = head.Split("\r\n")[0].Split(' ');
        int? status = statusLine.Length > 1 && int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
        var answer = new RawAnswer(status, head, body);
        if (answer.Header("Transfer-Encoding").Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            answer = answer with { Body = Dechunk(body) };
        }

        return answer;
    }

    private static string Dechunk(string chunked)
    {
        var result = new StringBuilder();
        var position = 0;
        while (position < chunked.Length)
        {
            var lineEnd = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                break;
            }

            if (!int.TryParse(chunked[position..lineEnd].Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size == 0)
            {
                break; // the last chunk, or not chunked as announced: the test sees what arrived so far
            }

            result.Append(chunked, lineEnd + 2, Math.Min(size, chunked.Length - lineEnd - 2));
            position = lineEnd + 2 + size + 2;
        }

        return result.ToString();
    }
}
