using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>Request bodies of API.md "Customers" and the customer operations most tests need, asserted to succeed.</summary>
public static class TestCustomers
{
    public const string Name = "Ada Lovelace";
    public const string Email = "ada@example.com";
    public const string Country = "GB";

    public static string NewId() => TestOrders.NewId("cust");

    public static JsonObject RegisterBody(string? customerId, DateTimeOffset? occurredAt = null)
    {
        var body = new JsonObject();
        if (customerId is not null)
        {
            body["customerId"] = customerId;
        }

        body["name"] = Name;
        body["email"] = Email;
        body["country"] = Country;
        if (occurredAt is { } time)
        {
            body["occurredAt"] = TestOrders.Time(time);
        }

        return body;
    }

    public static JsonObject ProfileBody(string? name = null, string? email = null, string? country = null, DateTimeOffset? occurredAt = null)
    {
        var body = new JsonObject();
        if (name is not null)
        {
            body["name"] = name;
        }

        if (email is not null)
        {
            body["email"] = email;
        }

        if (country is not null)
        {
            body["country"] = country;
        }

        if (occurredAt is { } time)
        {
            body["occurredAt"] = TestOrders.Time(time);
        }

        return body;
    }

    public static async Task<JsonElement> RegisterCustomerAsync(this ApiHost host, string customerId, DateTimeOffset? occurredAt = null)
    {
        using var response = await host.Writer.PostAsync("/api/customers", RegisterBody(customerId, occurredAt).ToJsonString());
        return await response.AssertJsonAsync(HttpStatusCode.Created);
    }

    /// <summary>Changes the profile as <paramref name="caller"/> (the writer when none; its answer then lacks name and email).</summary>
    public static async Task<JsonElement> ChangeProfileAsync(this ApiHost host, string customerId, JsonObject body, ApiClient? caller = null)
    {
        using var response = await (caller ?? host.Writer).PostAsync($"/api/customers/{customerId}/profile", body.ToJsonString());
        return await response.AssertJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonElement> GetCustomerAsync(this ApiHost host, string customerId, string query = "")
    {
        using var response = await host.Reader.GetAsync($"/api/customers/{customerId}{query}");
        return await response.AssertJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonElement[]> GetAllCustomerEventsAsync(this ApiHost host, string customerId)
    {
        using var response = await host.Reader.GetAsync($"/api/customers/{customerId}/events?limit=1000");
        var page = await response.AssertJsonAsync(HttpStatusCode.OK);
        return [.. page.GetProperty("events").EnumerateArray()];
    }

    /// <summary>The customer still has <paramref name="version"/> and exactly that many events (one that never registered is 404 on both).</summary>
    public static Task AssertNothingWrittenToCustomerAsync(this ApiHost host, string customerId, int version) =>
        host.AssertNothingWrittenAtAsync($"/api/customers/{customerId}", version);

    /// <summary>The caller name the API gives an API key (ApiKeyRegistry): "key-" and the first 8 hex digits of the key's SHA-256.</summary>
    public static string KeyCaller(string key) =>
        "key-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8].ToLowerInvariant();
}
