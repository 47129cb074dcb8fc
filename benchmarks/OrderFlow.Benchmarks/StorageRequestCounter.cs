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

    /// <summary>The table of a transaction's first operation (a transaction writes one partition of one table).</summary>
    private static string BatchTarget(RequestContent content)
    {
        using var body = new MemoryStream();
        content.WriteTo(body, CancellationToken.None);
        var text = System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
        var operation = FirstOperation.Match(text);
        return operation.Success ? operation.Groups["table"].Value : "?";
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
