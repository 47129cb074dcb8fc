using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Benchmarks;

/// <summary>
/// Counts the storage requests (billed transactions) the system's own clients send, by what they
/// address: a table's name, <c>$batch</c> and the table for an entity-group transaction
/// (<c>$batch benchstats</c>),
/// <c>Tables</c> for table management, a queue's name. Added to the system's clients through
/// <see cref="OrderFlow.Silo.StorageClientPolicy"/>, once per try.
/// </summary>
public sealed class StorageRequestCounter : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, long> byTarget = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> bytesByTarget = new(StringComparer.Ordinal);
    private long total;

    public long Total => Interlocked.Read(ref total);

    public IReadOnlyDictionary<string, long> ByTarget() => new Dictionary<string, long>(byTarget, StringComparer.Ordinal);

    /// <summary>Request bodies sent, in bytes, by the same targets as <see cref="ByTarget"/>: what the storage parses.</summary>
    public IReadOnlyDictionary<string, long> BytesByTarget() => new Dictionary<string, long>(bytesByTarget, StringComparer.Ordinal);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var sent = Watch(message);
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            Count(message, sent);
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var sent = Watch(message);
        try
        {
            await ProcessNextAsync(message, pipeline);
        }
        finally
        {
            Count(message, sent);
        }
    }

    /// <summary>
    /// Lets the transport's own writing of the body tell its length and, for a transaction, its
    /// table: the benchmark's process runs the system, so counting must not serialize a body again
    /// (doing so was a third of what a command allocated here, and the baselines pay nothing of it).
    /// </summary>
    private static SentBody? Watch(HttpMessage message)
    {
        if (message.Request.Content is not { } content)
        {
            return null;
        }

        var sent = new SentBody(content, IsTransaction(message) ? new byte[2048] : null);
        message.Request.Content = sent;
        return sent;
    }

    private void Count(HttpMessage message, SentBody? sent)
    {
        if (sent is not null)
        {
            message.Request.Content = sent.Inner;
        }

        Interlocked.Increment(ref total);
        var target = IsTransaction(message)
            ? "$batch " + (sent?.FirstOperationTable() ?? "?") + " " + message.Request.Method.Method
            : Target(message.Request.Uri.Path, message.Request.Method);
        byTarget.AddOrUpdate(target, 1, (_, n) => n + 1);
        if (sent is not null)
        {
            bytesByTarget.AddOrUpdate(target, static (_, written) => written, static (_, n, written) => n + written, sent.Written);
        }
    }

    private static bool IsTransaction(HttpMessage message) => message.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal);

    private static readonly System.Text.RegularExpressions.Regex FirstOperation = new(
        @"(?:POST|PUT|PATCH|MERGE|DELETE) \S*?/(?<table>[A-Za-z][A-Za-z0-9]*)[ (?]",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// A request's body as the transport writes it: its length, and for a transaction its first
    /// bytes (its first operation names its table). A body written again within one try (a
    /// connection found stale and the request sent on another) counts once: each write starts afresh.
    /// </summary>
    private sealed class SentBody(RequestContent inner, byte[]? start) : RequestContent
    {
        private int kept;

        public RequestContent Inner => inner;

        public long Written { get; private set; }

        /// <summary>The table of a transaction's first operation (a transaction writes one partition of one table).</summary>
        public string FirstOperationTable()
        {
            if (start is null)
            {
                return "?";
            }

            if (Written == 0)
            {
                // Never sent (the try failed before it): the body is written here, once, to read it.
                inner.WriteTo(new Through(Stream.Null, this), CancellationToken.None);
            }

            var operation = FirstOperation.Match(System.Text.Encoding.UTF8.GetString(start, 0, kept));
            return operation.Success ? operation.Groups["table"].Value : "?";
        }

        public override bool TryComputeLength(out long length) => inner.TryComputeLength(out length);

        public override void WriteTo(Stream stream, CancellationToken cancellationToken)
        {
            Restart();
            inner.WriteTo(new Through(stream, this), cancellationToken);
        }

        public override Task WriteToAsync(Stream stream, CancellationToken cancellationToken)
        {
            Restart();
            return inner.WriteToAsync(new Through(stream, this), cancellationToken);
        }

        public override void Dispose() => inner.Dispose();

        private void Restart() => (kept, Written) = (0, 0);

        private void Saw(ReadOnlySpan<byte> bytes)
        {
            if (start is not null)
            {
                var take = Math.Min(bytes.Length, start.Length - kept);
                bytes[..take].CopyTo(start.AsSpan(kept));
                kept += take;
            }

            Written += bytes.Length;
        }

        /// <summary>Writes through to the transport's stream, showing the body what passes.</summary>
        private sealed class Through(Stream stream, SentBody body) : Stream
        {
            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                body.Saw(buffer);
                stream.Write(buffer);
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                body.Saw(buffer.Span);
                return stream.WriteAsync(buffer, cancellationToken);
            }

            public override void Flush() => stream.Flush();

            public override Task FlushAsync(CancellationToken cancellationToken) => stream.FlushAsync(cancellationToken);

            public override bool CanRead => false;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }

    /// <summary>
    /// The addressed resource and the method: Azurite's paths start with the account
    /// (<c>/devstoreaccount1/table(PartitionKey='…')</c>), Azure's do not.
    /// </summary>
    private static string Target(string path, RequestMethod method)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var resource = segments.Length switch
        {
            0 => "",
            1 => segments[0],
            _ => segments[0].StartsWith("devstoreaccount", StringComparison.Ordinal) ? segments[1] : segments[0],
        };
        var key = resource.IndexOf('(', StringComparison.Ordinal);
        return (key >= 0 ? resource[..key] : resource) + " " + method.Method;
    }
}
