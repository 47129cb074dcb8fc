using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>JSON content of unknown length: HttpClient sends it with <c>Transfer-Encoding: chunked</c> and no Content-Length.</summary>
public sealed class ChunkedJsonContent : HttpContent
{
    private readonly byte[] bytes;
    private readonly int chunkSize;
    private readonly TimeSpan pause;

    /// <param name="chunkSize">Bytes per write; each write is flushed, so it travels as its own chunk.</param>
    /// <param name="pause">A pause after each chunk, so the server reads them one at a time.</param>
    public ChunkedJsonContent(string json, int chunkSize = 8192, TimeSpan pause = default)
    {
        bytes = Encoding.UTF8.GetBytes(json);
        this.chunkSize = chunkSize;
        this.pause = pause;
        Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var offset = 0; offset < bytes.Length; offset += chunkSize)
        {
            await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(chunkSize, bytes.Length - offset)));
            await stream.FlushAsync();
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause);
            }
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
