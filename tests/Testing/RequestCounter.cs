using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Testing;

/// <summary>Counts (and remembers) the HTTP requests a table client sends, retries included.</summary>
public sealed partial class RequestCounter : HttpPipelineSynchronousPolicy
{
    private readonly ConcurrentQueue<(string Path, string Query, string? Table)> sent = new();

    /// <summary>Method and path of each request.</summary>
    public IReadOnlyList<string> Sent => [.. sent.Select(r => r.Path)];

    /// <summary>Method, path and unescaped query (the filter of a query) of each request.</summary>
    public IReadOnlyList<string> SentWithQuery => [.. sent.Select(r => r.Path + r.Query)];

    /// <summary>
    /// Method and path of each request to one of <paramref name="tables"/>; an entity-group
    /// transaction (<c>$batch</c>, whose path names no table) counts for the table its body writes to.
    /// </summary>
    public IReadOnlyList<string> SentTo(params string[] tables) =>
        [.. sent.Where(r => r.Table is { } table && tables.Contains(table, StringComparer.Ordinal)).Select(r => r.Path)];

    public void Reset() => sent.Clear();

    public override void OnSendingRequest(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        sent.Enqueue((message.Request.Method + " " + uri.AbsolutePath, Uri.UnescapeDataString(uri.Query), TableOf(message.Request, uri)));
    }

    /// <summary>The table a request is about: the path's second segment, or for a transaction the first table its body names.</summary>
    private static string? TableOf(Azure.Core.Request request, Uri uri)
    {
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length < 2)
        {
            return null;
        }

        if (segments[1] != "$batch")
        {
            var end = segments[1].IndexOf('(', StringComparison.Ordinal);
            return end < 0 ? segments[1] : segments[1][..end];
        }

        if (request.Content is null)
        {
            return null;
        }

        using var body = new MemoryStream();
        request.Content.WriteTo(body, CancellationToken.None);
        var match = TableInBatch().Match(Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length));
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>A request line of a transaction's change set: "PUT http://host/account/table(PartitionKey=…) HTTP/1.1".</summary>
    [GeneratedRegex(@"^(?:POST|PUT|PATCH|MERGE|DELETE) \S*/([A-Za-z][A-Za-z0-9]{2,62})(?:\([^)\s]*\))?(?:\?\S*)? HTTP/", RegexOptions.Multiline)]
    private static partial Regex TableInBatch();
}
