using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Authentication": API keys and roles; the operations endpoints.</summary>
public sealed class AuthenticationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost host = fixture.Host;

    [Fact]
    public async Task No_key_is_401_with_WWW_Authenticate()
    {
        var id = await host.OrderInStatusAsync("placed");

        using var command = await host.Anonymous.PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString());
        await command.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.NotEmpty(command.Headers.WwwAuthenticate);

        using var query = await host.Anonymous.GetAsync($"/api/orders/{id}");
        await query.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.NotEmpty(query.Headers.WwwAuthenticate);

        using var events = await host.Anonymous.GetAsync($"/api/orders/{id}/events");
        await events.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_unknown_key_is_401()
    {
        var id = await host.OrderInStatusAsync("placed");
        var stranger = host.WithKey("not-a-configured-key");

        using var command = await stranger.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await command.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.NotEmpty(command.Headers.WwwAuthenticate);

        using var query = await stranger.GetAsync($"/api/orders/{id}");
        await query.AssertProblemAsync(HttpStatusCode.Unauthorized);

        await host.AssertNothingWrittenAsync(id, 1);
    }

    /// <summary>Issue 11: a host without Entra ID configured takes no tokens, and names only the key.</summary>
    [Fact]
    public async Task A_bearer_token_where_Entra_ID_is_not_configured_is_401_naming_only_the_key()
    {
        using var response = await host.WithToken(TestTokens.Issue(["admin"])).GetAsync($"/api/orders/{TestOrders.NewId()}");

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        Assert.Equal("ApiKey", Assert.Single(response.Headers.WwwAuthenticate).Scheme);

        using var openApi = await host.Anonymous.GetAsync("/openapi/v1.json");
        var schemes = (await openApi.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("components").GetProperty("securitySchemes");
        Assert.False(schemes.TryGetProperty("Bearer", out _), "The OpenAPI document offers bearer tokens that this host does not take.");
    }

    [Fact]
    public async Task A_key_is_case_sensitive()
    {
        using var response = await host.WithKey(ApiHost.ReaderKey.ToUpperInvariant()).GetAsync($"/api/orders/{TestOrders.NewId()}");

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_reader_may_not_send_commands()
    {
        var id = await host.OrderInStatusAsync("placed");
        var newId = TestOrders.NewId();

        using var place = await host.Reader.PostAsync("/api/orders", TestOrders.PlaceBody(newId).ToJsonString());
        await place.AssertProblemAsync(HttpStatusCode.Forbidden);

        using var pay = await host.Reader.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await pay.AssertProblemAsync(HttpStatusCode.Forbidden);

        await host.AssertNothingWrittenAsync(id, 1);
        await host.AssertNothingWrittenAsync(newId, 0);
    }

    [Fact]
    public async Task A_writer_may_not_read()
    {
        var id = await host.OrderInStatusAsync("placed");

        using var order = await host.Writer.GetAsync($"/api/orders/{id}");
        await order.AssertProblemAsync(HttpStatusCode.Forbidden);

        using var events = await host.Writer.GetAsync($"/api/orders/{id}/events");
        await events.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_reader_reads_and_a_writer_writes()
    {
        var id = TestOrders.NewId();
        using var place = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);

        using var read = await host.Reader.GetAsync($"/api/orders/{id}");
        await read.AssertJsonAsync(HttpStatusCode.OK);
        using var events = await host.Reader.GetAsync($"/api/orders/{id}/events");
        await events.AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_admin_may_send_commands_and_read()
    {
        var id = TestOrders.NewId();

        using var place = await host.Admin.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);
        using var pay = await host.Admin.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await pay.AssertJsonAsync(HttpStatusCode.OK);

        using var read = await host.Admin.GetAsync($"/api/orders/{id}");
        Assert.Equal("paid", (await read.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
        using var events = await host.Admin.GetAsync($"/api/orders/{id}/events");
        Assert.Equal(2, (await events.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("events").GetArrayLength());
    }

    /// <summary>
    /// A browser that logged into the dashboard sends its Basic credentials by itself with every
    /// request to the site, including the form or beacon another site makes it send: the API takes
    /// them for no route, so such a request cannot erase a customer, start a rebuild or deliver an
    /// order (no body, no header that the route could require). They were taken everywhere (found by
    /// a read-only review: the erasure answered 200).
    /// </summary>
    [Fact]
    public async Task HTTP_Basic_is_for_the_dashboard_only_so_a_cross_site_form_cannot_act_with_it()
    {
        var customerId = TestCustomers.NewId();
        await host.RegisterCustomerAsync(customerId);
        var shipped = await host.OrderInStatusAsync("shipped");
        void CrossSite(HttpRequestMessage request)
        {
            request.Headers.Authorization = Basic("ops", ApiHost.AdminKey);
            request.Headers.TryAddWithoutValidation("Origin", "https://elsewhere.example");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        }

        foreach (var path in new[] { $"/api/customers/{customerId}/erasure", "/api/admin/projections/rebuild", $"/api/orders/{shipped}/delivery" })
        {
            using var response = await host.Anonymous.SendAsync(HttpMethod.Post, path, new ByteArrayContent([]), CrossSite);
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        using var read = await host.Anonymous.GetAsync($"/api/orders/{shipped}", request => request.Headers.Authorization = Basic("anyone", ApiHost.AdminKey));
        await read.AssertProblemAsync(HttpStatusCode.Unauthorized);

        Assert.False((await host.GetCustomerAsync(customerId)).GetProperty("erased").GetBoolean());
        using var order = await host.Reader.GetAsync($"/api/orders/{shipped}");
        Assert.Equal("shipped", (await order.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
    }

    [Fact]
    public async Task The_dashboard_without_credentials_is_401_with_a_Basic_challenge()
    {
        using var response = await host.Anonymous.GetAsync("/dashboard");

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Basic", challenge.Scheme, ignoreCase: true);
    }

    [Fact]
    public async Task The_dashboard_with_the_admin_key_as_Basic_password_is_200_HTML()
    {
        using var response = await host.Anonymous.GetFollowingRedirectsAsync("/dashboard", request => request.Headers.Authorization = Basic("admin", ApiHost.AdminKey));

        var body = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {body}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_dashboard_with_a_reader_or_writer_key_is_403()
    {
        using var reader = await host.Anonymous.GetAsync("/dashboard", request => request.Headers.Authorization = Basic("reader", ApiHost.ReaderKey));
        await reader.AssertProblemAsync(HttpStatusCode.Forbidden);
        using var readerInside = await host.Anonymous.GetAsync("/dashboard/", request => request.Headers.Authorization = Basic("reader", ApiHost.ReaderKey));
        await readerInside.AssertProblemAsync(HttpStatusCode.Forbidden);

        using var writer = await host.Writer.GetAsync("/dashboard");
        await writer.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_dashboard_pages_inside_need_credentials_too()
    {
        using var page = await host.Anonymous.GetAsync("/dashboard/");
        await page.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("Basic", Assert.Single(page.Headers.WwwAuthenticate).Scheme, ignoreCase: true);
    }

    [Fact]
    public async Task The_dashboard_with_a_wrong_Basic_password_is_401()
    {
        using var response = await host.Anonymous.GetAsync("/dashboard", request => request.Headers.Authorization = Basic("admin", "wrong"));

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme, ignoreCase: true);
    }

    [Theory]
    [InlineData("/health/live", "application/json")]
    [InlineData("/health/ready", "application/json")]
    [InlineData("/openapi/v1.json", "application/json")]
    [InlineData("/scalar", "text/html")]
    public async Task Operations_endpoints_need_no_key(string path, string mediaType)
    {
        using var response = await host.Anonymous.GetFollowingRedirectsAsync(path);

        var body = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: expected 200, got {(int)response.StatusCode}: {body}");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_order_routes()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");

        var document = await response.AssertJsonAsync(HttpStatusCode.OK);
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/orders", "/api/orders/{id}", "/api/orders/{id}/events", "/api/orders/{id}/payments", "/api/orders/{id}/shipment", "/api/orders/{id}/delivery", "/api/orders/{id}/cancellation", "/api/orders/{id}/refunds" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"The OpenAPI document lacks {path}.");
        }
    }

    [Fact]
    public async Task The_OpenAPI_document_holds_only_the_system_s_own_routes_each_in_a_titled_group()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");

        var document = await response.AssertJsonAsync(HttpStatusCode.OK);
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            Assert.False(path.Name.StartsWith("/dashboard", StringComparison.Ordinal), $"The OpenAPI document lists the dashboard's internal route {path.Name}.");
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.True(operation.Value.TryGetProperty("tags", out var tags) && tags.GetArrayLength() > 0,
                    $"{operation.Name.ToUpperInvariant()} {path.Name} is in no titled group.");
            }
        }
    }

    /// <summary>
    /// Issue 9: every operation of the document the real host serves explains itself: a summary,
    /// every parameter described, and every problem answer it can give named with when it is given
    /// (400 where it takes input, 401/403 where it needs a key, 413/415 where it reads a body, 503
    /// with Retry-After where it reaches storage). A route added without its description fails here.
    /// </summary>
    [Fact]
    public async Task Every_operation_of_the_OpenAPI_document_is_summarised_with_its_parameters_and_problem_answers_described()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");

        var document = await response.AssertJsonAsync(HttpStatusCode.OK);
        var info = document.GetProperty("info");
        Assert.Equal("OrderFlow API", info.Str("title"));
        Assert.Equal("v1", info.Str("version"));
        Assert.False(string.IsNullOrWhiteSpace(Text(info, "description")));
        Assert.Equal("X-Api-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").Str("name"));
        var tags = document.GetProperty("tags").EnumerateArray().ToDictionary(tag => tag.Str("name"), tag => Text(tag, "description"));

        var gaps = new List<string>();
        var operations = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                operations++;
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var op = operation.Value;
                if (string.IsNullOrWhiteSpace(Text(op, "summary")))
                {
                    gaps.Add($"{name}: no summary");
                }

                foreach (var tag in op.TryGetProperty("tags", out var opTags) ? opTags.EnumerateArray().Select(t => t.GetString()!) : [])
                {
                    if (string.IsNullOrWhiteSpace(tags.GetValueOrDefault(tag)))
                    {
                        gaps.Add($"{name}: its group '{tag}' has no description");
                    }
                }

                var parameters = op.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
                foreach (var parameter in parameters.Where(p => string.IsNullOrWhiteSpace(Text(p, "description"))))
                {
                    gaps.Add($"{name}: the {parameter.Str("in")} parameter '{parameter.Str("name")}' has no description");
                }

                var hasBody = op.TryGetProperty("requestBody", out var body);
                if (hasBody && string.IsNullOrWhiteSpace(Text(body, "description")))
                {
                    gaps.Add($"{name}: its request body has no description");
                }

                var responses = op.GetProperty("responses");
                var answers = responses.EnumerateObject().Select(r => r.Name).ToHashSet();
                var required = new List<string>();
                if (hasBody || parameters.Any(p => p.Str("in") is "query" or "header"))
                {
                    required.Add("400");
                }

                if (path.Name.StartsWith("/api/", StringComparison.Ordinal))
                {
                    if (!op.TryGetProperty("security", out var security) || security.GetArrayLength() == 0)
                    {
                        gaps.Add($"{name}: needs a key but names no security requirement");
                    }

                    required.AddRange(["401", "403", "503"]); // every /api route needs a key and reaches the cluster and storage
                }

                if (hasBody)
                {
                    required.AddRange(["413", "415"]);
                }

                gaps.AddRange(required.Where(status => !answers.Contains(status)).Select(status => $"{name}: does not document its {status} answer"));
                foreach (var answer in responses.EnumerateObject())
                {
                    if (answer.Name[0] is '4' or '5' && !(Text(answer.Value, "description") ?? "").Contains("/problems/", StringComparison.Ordinal))
                    {
                        gaps.Add($"{name}: its {answer.Name} answer does not say when it is given and with which problem type");
                    }

                    if (answer.Name[0] is '4' or '5' && !(answer.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out _)))
                    {
                        gaps.Add($"{name}: its {answer.Name} answer is not a problem document");
                    }

                    if (answer.Name == "503" && !(answer.Value.TryGetProperty("headers", out var headers) && headers.TryGetProperty("Retry-After", out _)))
                    {
                        gaps.Add($"{name}: its 503 answer does not name Retry-After");
                    }
                }
            }
        }

        // Issue 9: money and durations are exact decimals in the API; no floating-point number reaches JSON.
        var floating = System.Text.RegularExpressions.Regex.Matches(document.GetRawText(), "\"format\"\\s*:\\s*\"(double|float)\"");
        Assert.True(floating.Count == 0, $"{floating.Count} numbers of the document are floating-point.");
        Assert.True(operations >= 17, $"The document holds only {operations} operations.");
        Assert.True(gaps.Count == 0, "The OpenAPI document leaves undescribed:\n" + string.Join("\n", gaps));
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [Fact]
    public async Task Ready_reports_healthy_storage_and_cluster()
    {
        // Each check has under a second (see ReadinessTests); on a machine busy with the other
        // tests one probe may miss that, so ask until one is answered in time, within a bound.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await host.Anonymous.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                var health = await response.AssertJsonAsync(HttpStatusCode.OK);
                Assert.Equal("Healthy", health.Str("status"));
                return;
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Issue 8: an anonymous oversized body was measured (413) before the caller was asked who they were.</summary>
    [Fact]
    public async Task An_oversized_body_without_a_key_is_401_and_with_a_key_of_the_wrong_role_is_403()
    {
        var oversized = TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString() + new string(' ', 100 * 1024);

        using var withLength = await host.Anonymous.PostAsync("/api/orders", oversized);
        await withLength.AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var chunked = await host.Anonymous.SendAsync(HttpMethod.Post, "/api/orders", new ChunkedJsonContent(oversized));
        await chunked.AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var unknownKey = await host.WithKey("not-a-configured-key").PostAsync("/api/orders", oversized);
        await unknownKey.AssertProblemAsync(HttpStatusCode.Unauthorized);

        using var reader = await host.Reader.PostAsync("/api/orders", oversized);
        await reader.AssertProblemAsync(HttpStatusCode.Forbidden);
        using var readerChunked = await host.Reader.SendAsync(HttpMethod.Post, "/api/orders", new ChunkedJsonContent(oversized));
        await readerChunked.AssertProblemAsync(HttpStatusCode.Forbidden);

        // The limit still holds for callers who may send the body.
        using var writer = await host.Writer.PostAsync("/api/orders", oversized);
        await writer.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    /// <summary>
    /// The refusal comes before the body is read: a caller who sends the headers and the first
    /// chunk, then nothing more, is answered. (Were the body read first, the server would wait for
    /// the rest until Kestrel's minimum data rate gave up on the request with a 408.)
    /// </summary>
    [Theory]
    [InlineData(null, 401)]
    [InlineData(ApiHost.ReaderKey, 403)]
    public async Task A_refused_caller_is_answered_without_the_body_being_read(string? key, int status)
    {
        var keyHeader = key is null ? string.Empty : $"X-Api-Key: {key}\r\n";
        var request = $"POST /api/orders HTTP/1.1\r\nHost: {host.BaseAddress.Authority}\r\n{keyHeader}Content-Type: application/json\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n10000\r\n{\"customerId\":";

        var answer = await RawHttp.SendAsync(host.BaseAddress, request);

        answer.AssertProblem(status);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}
