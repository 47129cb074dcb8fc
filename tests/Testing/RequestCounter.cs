using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Testing;

/// <summary>Counts (and remembers) the HTTP requests a table client sends, retries included.</summary>
public sealed class RequestCounter : HttpPipelineSynchronousPolicy
{
    private readonly ConcurrentQueue<(string Path, string Query)> sent = new();

    /// <summary>Method and path of each request.</summary>
    public IReadOnlyList<string> Sent => [.. sent.Select(r => r.Path)];

    /// <summary>Method, path and unescaped query (the filter of a query) of each request.</summary>
    public IReadOnlyList<string> SentWithQuery => [.. sent.Select(r => r.Path + r.Query)];

    public void Reset() => sent.Clear();

    public override void OnSendingRequest(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        sent.Enqueue((message.Request.Method + " " + uri.AbsolutePath, Uri.UnescapeDataString(uri.Query)));
    }
}
