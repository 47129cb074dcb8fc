namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>Request bodies whose Content-Type is sent as written (HttpClient would otherwise check or rewrite it).</summary>
public static class DeclaredContent
{
    public static StringContent Json(string json, string contentType)
    {
        var body = new StringContent(json);
        body.Headers.Remove("Content-Type");
        Assert.True(body.Headers.TryAddWithoutValidation("Content-Type", contentType), contentType);
        return body;
    }
}
