using System.IO;
using Azure.Core;
using Azure.Core.Pipeline;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Silo;

/// <summary>
/// Serializes an entity-group transaction's body (<c>POST …/$batch</c>) once, before the first try,
/// when it fits in an array below the large-object heap.
/// </summary>
/// <remarks>
/// Azure.Data.Tables hands the transport a multipart body (Azure.Core's <c>MultipartContent</c>,
/// compiled into it) whose operations are written out on demand, and the transport asks for its length before it asks for its bytes: each operation's
/// request line and headers are built as text twice (a 2,048-character builder, the URI and every
/// header concatenated, then encoded), and again on every retry. Every command appends in a
/// transaction, so that work is a large share of what a silo allocates, and allocation is what
/// sets how often the collector pauses it. Written once into an array, the body has a known length
/// and is sent as it is on every try. The bytes are the same; the SDK reads nothing of the request
/// after sending it (it parses the response only). A body longer than <see cref="LongTransactionBody.MaxBufferedBytes"/>
/// (the statistics' group commits, up to 4 MiB) is left as the SDK made it: copying it would
/// allocate a large-object-heap array per transaction, which only a full collection frees. A caller
/// that knows its body is long says so (<see cref="LongTransactionBody"/>), and its body is not
/// tried; any other long body is found out at the cost of its first 64 KiB of text and an exception.
/// </remarks>
public sealed class TransactionBodyPolicy : HttpPipelineSynchronousPolicy
{
    [ThreadStatic]
    private static byte[]? scratch;

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        if (request.Method != RequestMethod.Post || request.Content is not { } content || !EntityGroupTransactions.IsTransaction(request.Uri.Path)
            || message.TryGetProperty(LongTransactionBody.Property, out _))
        {
            return;
        }

        var buffer = new BoundedBuffer(scratch ??= new byte[LongTransactionBody.MaxBufferedBytes]);
        try
        {
            content.WriteTo(buffer, message.CancellationToken);
        }
        catch (BodyTooLongException)
        {
            return; // the SDK's own body writes itself again from its start
        }

        request.Content = RequestContent.Create(buffer.Written.ToArray());
    }

    /// <summary>Stops the writing of a body longer than the buffer at the first byte that does not fit.</summary>
    private sealed class BodyTooLongException() : Exception("The transaction's body is longer than the buffer.");

    /// <summary>A write-only stream over a fixed buffer that refuses to grow.</summary>
    private sealed class BoundedBuffer(byte[] buffer) : Stream
    {
        private int length;

        public ReadOnlySpan<byte> Written => buffer.AsSpan(0, length);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => length;

        public override long Position
        {
            get => length;
            set => throw new NotSupportedException();
        }

        public override void Write(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > buffer.Length - length)
            {
                throw new BodyTooLongException();
            }

            bytes.CopyTo(buffer.AsSpan(length));
            length += bytes.Length;
        }

        public override void Write(byte[] bytes, int offset, int count) => Write(bytes.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush()
        {
        }

        public override int Read(byte[] bytes, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
