using System.Buffers;
using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using OrderFlow.Grains.EventStore;
using OrderFlow.Silo;

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
    /// <summary>The longest target name kept (table names have at most 63 characters).</summary>
    private const int MaxTargetChars = 128;

    /// <summary>
    /// How much of a transaction's body is kept to find its first operation's table: the batch and
    /// changeset preamble and the start of the first request line, which names the table early.
    /// </summary>
    private const int TransactionStartBytes = 512;

    private readonly ConcurrentDictionary<string, Tally> byTarget = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Tally>.AlternateLookup<ReadOnlySpan<char>> byTargetName;
    private long total;

    public StorageRequestCounter() => byTargetName = byTarget.GetAlternateLookup<ReadOnlySpan<char>>();

    public long Total => Interlocked.Read(ref total);

    public IReadOnlyDictionary<string, long> ByTarget() => byTarget.ToDictionary(pair => pair.Key, pair => Interlocked.Read(ref pair.Value.Requests), StringComparer.Ordinal);

    /// <summary>Request bodies sent, in bytes, by the same targets as <see cref="ByTarget"/>: what the storage parses.</summary>
    public IReadOnlyDictionary<string, long> BytesByTarget() => byTarget.ToDictionary(pair => pair.Key, pair => Interlocked.Read(ref pair.Value.Bytes), StringComparer.Ordinal);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var path = message.Request.Uri.Path;
        var sent = Watch(message, path);
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            Count(message, path, sent);
        }
    }

    /// <remarks>The request's path is read once: the SDK makes it a new string each time it is asked for.</remarks>
    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var path = message.Request.Uri.Path;
        var sent = Watch(message, path);
        try
        {
            await ProcessNextAsync(message, pipeline);
        }
        finally
        {
            Count(message, path, sent);
        }
    }

    /// <summary>
    /// Lets the transport's own writing of the body tell its length and, for a transaction, its
    /// table. The benchmark's process runs the system, whose collector pauses what is measured, so
    /// counting allocates next to nothing per request: no body serialized again, no text decoded,
    /// a target's name made in place and looked up without a string.
    /// </summary>
    private static SentBody? Watch(HttpMessage message, string path)
    {
        if (message.Request.Content is not { } content)
        {
            return null;
        }

        // Its own small buffer, not a pooled one: a transport may still be writing a failed try's body.
        var sent = new SentBody(content, EntityGroupTransactions.IsTransaction(path) ? new byte[TransactionStartBytes] : null);
        message.Request.Content = sent;
        return sent;
    }

    private void Count(HttpMessage message, string path, SentBody? sent)
    {
        if (sent is not null)
        {
            message.Request.Content = sent.Inner;
        }

        Interlocked.Increment(ref total);
        var written = sent?.Written ?? 0; // before Start, which writes a body never sent to find its table
        Span<char> name = stackalloc char[MaxTargetChars];
        var length = EntityGroupTransactions.IsTransaction(path)
            ? TransactionTarget(sent is null ? default : sent.Start, message.Request.Method, name)
            : Target(path, message.Request.Method, name);
        var target = name[..length];
        if (!byTargetName.TryGetValue(target, out var tally))
        {
            tally = byTarget.GetOrAdd(target.ToString(), static _ => new Tally());
        }

        Interlocked.Increment(ref tally.Requests);
        if (sent is not null)
        {
            Interlocked.Add(ref tally.Bytes, written);
        }
    }

    /// <summary>
    /// <c>$batch</c>, the table of the transaction's first operation and the method, written to
    /// <paramref name="name"/>: the first request line of the body (<c>POST http://…/table HTTP/1.1</c>,
    /// <c>PATCH …/table(PartitionKey=…)</c>) names it; <c>?</c> when none is found.
    /// </summary>
    public static int TransactionTarget(ReadOnlySpan<byte> start, RequestMethod method, Span<char> name)
    {
        var written = Append(name, 0, "$batch ");
        written = AppendAscii(name, written, FirstOperationTable(start));
        written = Append(name, written, " ");
        return Append(name, written, method.Method);
    }

    /// <summary>The table named by the first request line of a transaction's body (see <see cref="TransactionTarget"/>).</summary>
    private static ReadOnlySpan<byte> FirstOperationTable(ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> unknown = "?"u8;
        foreach (var line in body.Split("\r\n"u8))
        {
            var text = body[line];
            var space = text.IndexOf((byte)' ');
            if (space <= 0 || !IsOperation(text[..space]))
            {
                continue;
            }

            // The resource ends at its keys, its query or the line's protocol; a line cut off before
            // any of them (the kept bytes ended) does not tell the whole name.
            var uri = text[(space + 1)..];
            var resourceEnd = uri.IndexOfAny((byte)'(', (byte)'?', (byte)' ');
            if (resourceEnd < 0)
            {
                return unknown;
            }

            uri = uri[..resourceEnd];
            var table = uri[(uri.LastIndexOf((byte)'/') + 1)..];
            return table.Length > 0 && char.IsAsciiLetter((char)table[0]) && !table.ContainsAnyExcept(AsciiLettersAndDigits) ? table : unknown;
        }

        return unknown;
    }

    private static readonly SearchValues<byte> AsciiLettersAndDigits =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"u8);

    private static bool IsOperation(ReadOnlySpan<byte> method) =>
        method.SequenceEqual("POST"u8) || method.SequenceEqual("PUT"u8) || method.SequenceEqual("PATCH"u8)
        || method.SequenceEqual("MERGE"u8) || method.SequenceEqual("DELETE"u8);

    /// <summary>
    /// The addressed resource and the method, written to <paramref name="name"/>: Azurite's paths
    /// start with the account (<c>/devstoreaccount1/table(PartitionKey='…')</c>), Azure's do not.
    /// </summary>
    public static int Target(ReadOnlySpan<char> path, RequestMethod method, Span<char> name)
    {
        path = path.TrimStart('/');
        var resource = FirstSegment(path);
        var rest = path[resource.Length..].TrimStart('/');
        if (resource.StartsWith("devstoreaccount", StringComparison.Ordinal) && !rest.IsEmpty)
        {
            resource = FirstSegment(rest);
        }

        var key = resource.IndexOf('(');
        var written = Append(name, 0, key >= 0 ? resource[..key] : resource);
        written = Append(name, written, " ");
        return Append(name, written, method.Method);
    }

    private static ReadOnlySpan<char> FirstSegment(ReadOnlySpan<char> path) => path.IndexOf('/') is var slash && slash >= 0 ? path[..slash] : path;

    private static int Append(Span<char> name, int at, ReadOnlySpan<char> text)
    {
        var take = Math.Min(text.Length, name.Length - at);
        text[..take].CopyTo(name[at..]);
        return at + take;
    }

    private static int AppendAscii(Span<char> name, int at, ReadOnlySpan<byte> text)
    {
        var take = Math.Min(text.Length, name.Length - at);
        for (var i = 0; i < take; i++)
        {
            name[at + i] = (char)text[i];
        }

        return at + take;
    }

    /// <summary>A target's requests and body bytes, counted in place.</summary>
    private sealed class Tally
    {
        public long Requests;
        public long Bytes;
    }

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

        /// <summary>The start of a transaction's body (empty for other requests).</summary>
        public ReadOnlySpan<byte> Start
        {
            get
            {
                if (start is null)
                {
                    return default;
                }

                if (Written == 0)
                {
                    // Never sent (the try failed before it): the body is written here, once, to read it.
                    inner.WriteTo(new Through(Stream.Null, this), CancellationToken.None);
                }

                return start.AsSpan(0, kept);
            }
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
}
