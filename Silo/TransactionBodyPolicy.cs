using System.IO;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Silo;

/// <summary>
/// Serializes an entity-group transaction's body (<c>POST …/$batch</c>) once, before the first try.
/// </summary>
/// <remarks>
/// Azure.Data.Tables hands the transport a multipart body whose operations are written out on
/// demand, and the transport asks for its length before it asks for its bytes: each operation's
/// request line and headers are built as text twice (a 2,048-character builder, the URI and every
/// header concatenated, then encoded), and again on every retry. Every command appends in a
/// transaction, so that work is a large share of what a silo allocates, and allocation is what
/// sets how often the collector pauses it. Written once into an array, the body has a known length
/// and is sent as it is on every try. The bytes are the same; the SDK reads nothing of the request
/// after sending it (it parses the response only).
/// </remarks>
public sealed class TransactionBodyPolicy : HttpPipelineSynchronousPolicy
{
    /// <summary>A scratch buffer larger than this after a transaction is not kept for the next one (a transaction may carry up to 4 MiB).</summary>
    private const int KeptScratchBytes = 64 * 1024;

    [ThreadStatic]
    private static MemoryStream? scratch;

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        if (request.Method != RequestMethod.Post || request.Content is not { } content || !IsTransaction(request.Uri))
        {
            return;
        }

        var buffer = scratch ??= new MemoryStream(8 * 1024);
        try
        {
            content.WriteTo(buffer, message.CancellationToken);
            request.Content = RequestContent.Create(buffer.ToArray());
        }
        finally
        {
            buffer.SetLength(0);
            if (buffer.Capacity > KeptScratchBytes)
            {
                scratch = null;
            }
        }
    }

    /// <summary>The request addresses <c>$batch</c>, the one path of an entity-group transaction.</summary>
    internal static bool IsTransaction(RequestUriBuilder uri) => uri.Path.EndsWith("/$batch", StringComparison.Ordinal);
}
