using System.Text;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>Sends requests with one API key (or none) in <c>X-Api-Key</c>, or with a bearer token.</summary>
public sealed class ApiClient(HttpClient http, string? key, string? bearerToken = null)
{
    public const string JsonMediaType = "application/json";

    public Task<HttpResponseMessage> GetAsync(string path, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Get, path, content: null, configure);

    /// <summary>
    /// GETs <paramref name="path"/> and follows same-origin redirects with the same credentials,
    /// as a browser does (HttpClient itself drops Authorization on a redirect).
    /// </summary>
    public async Task<HttpResponseMessage> GetFollowingRedirectsAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        var response = await GetAsync(path, configure);
        for (var hops = 0; hops < 5 && (int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location; hops++)
        {
            var target = location.IsAbsoluteUri ? location.PathAndQuery : new Uri(new Uri("http://host" + path), location).PathAndQuery;
            Assert.True(!location.IsAbsoluteUri || location.Authority == http.BaseAddress!.Authority, $"{path} redirects to another origin: {location}");
            response.Dispose();
            path = target;
            response = await GetAsync(path, configure);
        }

        return response;
    }

    /// <summary>POSTs <paramref name="json"/> as application/json (no body at all when null).</summary>
    public Task<HttpResponseMessage> PostAsync(string path, string? json, string? idempotencyKey = null, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Post, path, json is null ? null : new StringContent(json, Encoding.UTF8, JsonMediaType), request =>
        {
            if (idempotencyKey is not null)
            {
                request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
            }

            configure?.Invoke(request);
        });

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (bearerToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearerToken);
        }

        configure?.Invoke(request);
        return http.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
