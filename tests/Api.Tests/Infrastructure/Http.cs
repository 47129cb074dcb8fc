using System.Net;
using System.Text.Json;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>Assertions on HTTP answers: success bodies and RFC 9457 problem documents.</summary>
public static class Http
{
    public static async Task<string> BodyAsync(this HttpResponseMessage response) =>
        await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

    /// <summary>Asserts the status and a JSON body, and returns the body.</summary>
    public static async Task<JsonElement> AssertJsonAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.BodyAsync();
        Assert.True(response.StatusCode == status,
            $"Expected {(int)status} {status}, got {(int)response.StatusCode} {response.StatusCode} for {Describe(response)}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Asserts an API.md error: the status, <c>application/problem+json</c>, and the members
    /// <c>type</c>, <c>title</c>, <c>status</c> (equal to the HTTP status) and <c>detail</c>.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string? type = null)
    {
        var body = await response.BodyAsync();
        Assert.True(response.StatusCode == status,
            $"Expected {(int)status} {status}, got {(int)response.StatusCode} {response.StatusCode} for {Describe(response)}: {body}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"Expected application/problem+json for {Describe(response)}, got '{response.Content.Headers.ContentType}': {body}");

        JsonElement problem;
        using (var document = JsonDocument.Parse(body))
        {
            problem = document.RootElement.Clone();
        }

        Assert.Equal(JsonValueKind.Object, problem.ValueKind);
        foreach (var member in new[] { "type", "title", "detail" })
        {
            Assert.True(problem.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0,
                $"Problem document of {Describe(response)} lacks a non-empty '{member}': {body}");
        }

        Assert.True(problem.TryGetProperty("status", out var statusMember) && statusMember.ValueKind == JsonValueKind.Number,
            $"Problem document of {Describe(response)} lacks 'status': {body}");
        Assert.True(problem.TryGetProperty("traceId", out var traceId) && traceId.ValueKind == JsonValueKind.String && traceId.GetString()!.Length > 0,
            $"Problem document of {Describe(response)} lacks its 'traceId': {body}");
        Assert.Equal((int)status, statusMember.GetInt32());
        if (type is not null)
        {
            Assert.Equal(type, problem.GetProperty("type").GetString());
        }

        return problem;
    }

    /// <summary>Asserts a 400 validation problem whose <c>errors</c> name every one of <paramref name="fields"/>.</summary>
    public static async Task<JsonElement> AssertValidationProblemAsync(this HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "/problems/validation");
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object,
            $"Validation problem without 'errors': {problem}");
        foreach (var field in fields)
        {
            Assert.True(errors.TryGetProperty(field, out var messages),
                $"Expected errors to name '{field}', got: {errors}");
            Assert.Equal(JsonValueKind.Array, messages.ValueKind);
            Assert.NotEqual(0, messages.GetArrayLength());
        }

        return problem;
    }

    public static string Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : string.Empty;

    private static string Describe(HttpResponseMessage response) =>
        $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}";
}
