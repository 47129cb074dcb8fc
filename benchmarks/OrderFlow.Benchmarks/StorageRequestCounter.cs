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
        Count(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Count(HttpMessage message)
    {
        Interlocked.Increment(ref total);
        var target = Target(message.Request.Uri.Path, message.Request.Method);
        if (target.StartsWith("$batch ", StringComparison.Ordinal) && message.Request.Content is { } batch)
        {
            target = "$batch " + BatchTarget(batch) + " " + message.Request.Method.Method;
        }

        byTarget.AddOrUpdate(target, 1, (_, n) => n + 1);
        if (message.Request.Content is { } content && content.TryComputeLength(out var length))
        {
            bytesByTarget.AddOrUpdate(target, length, (_, n) => n + length);
        }
    }

    private static readonly System.Text.RegularExpressions.Regex FirstOperation = new(
        @"(?:POST|PUT|PATCH|MERGE|DELETE) \S*?/(?<table>[A-Za-z][A-Za-z0-9]*)[ (?]",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// The table of a transaction's first operation (a transaction writes one partition of one
    /// table), from the start of its body only: the benchmark's own process runs the system, so the
    /// counting must not copy the whole body into its allocations per operation.
    /// </summary>
    private static string BatchTarget(RequestContent content)
    {
        using var start = new BodyStart(new byte[2048]);
        content.WriteTo(start, CancellationToken.None);
        var operation = FirstOperation.Match(System.Text.Encoding.UTF8.GetString(start.Buffer, 0, start.Kept));
        return operation.Success ? operation.Groups["table"].Value : "?";
    }

    /// <summary>Keeps the first bytes written to it and counts the rest away.</summary>
    private sealed class BodyStart(byte[] buffer) : Stream
    {
        public byte[] Buffer => buffer;

        public int Kept { get; private set; }

        public override void Write(byte[] source, int offset, int count) => Write(source.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> source)
        {
            var take = Math.Min(source.Length, buffer.Length - Kept);
            source[..take].CopyTo(buffer.AsSpan(Kept));
            Kept += take;
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Kept;

        public override long Position { get => Kept; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] destination, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
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
