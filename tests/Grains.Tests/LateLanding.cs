using System.Net.Http;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// Once armed, the next transaction whose body names <c>mark</c> is not sent: its caller sees the
/// answer lost (an <see cref="IOException"/>, as when a connection drops mid-request), and
/// <see cref="LandAsync"/> sends the very request later, as storage applying a request that was on
/// the wire long after its caller gave up. Placed before the transport, so the request is signed.
/// </summary>
public sealed class LateLanding : HttpPipelinePolicy
{
    private readonly Lock gate = new();
    private string? mark;
    private HeldRequest? held;

    public void Arm(string bodyMark)
    {
        lock (gate)
        {
            mark = bodyMark;
            held = null;
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The event store's client is asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (mark is { } armed && message.Request.Method == RequestMethod.Post && message.Request.Content is { } content)
        {
            using var body = new MemoryStream();
            await content.WriteToAsync(body, message.CancellationToken);
            var bytes = body.ToArray();
            if (Encoding.UTF8.GetString(bytes).Contains(armed, StringComparison.Ordinal))
            {
                lock (gate)
                {
                    mark = null;
                    held = new HeldRequest(message.Request.Method.Method, message.Request.Uri.ToUri(), [.. message.Request.Headers], bytes);
                }

                throw new IOException("Injected by the test: the connection dropped with the request on the wire; it lands later.");
            }
        }

        await ProcessNextAsync(message, pipeline);
    }

    /// <summary>Sends the held request as it was signed; returns storage's answer.</summary>
    public async Task<HttpResponseMessage> LandAsync(CancellationToken cancellationToken)
    {
        var request = held ?? throw new InvalidOperationException("No request was held.");
        using var http = new HttpClient();
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Uri) { Content = new ByteArrayContent(request.Body) };
        foreach (var header in request.Headers)
        {
            if (header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                message.Content.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
            else if (!header.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !header.Name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
        }

        return await http.SendAsync(message, cancellationToken);
    }

    private sealed record HeldRequest(string Method, Uri Uri, IReadOnlyList<HttpHeader> Headers, byte[] Body);
}
