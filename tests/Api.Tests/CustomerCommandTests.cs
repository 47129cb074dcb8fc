using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Customers": register and change a profile over HTTP, with validation, strict input, roles and idempotency as for orders.</summary>
public sealed class CustomerCommandTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Replayed = "Idempotent-Replayed";

    private readonly ApiHost host = fixture.Host;

    private static string NewKey() => "idem-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Register_answers_201_with_the_customer_and_a_Location_that_reads_it_back()
    {
        var id = TestCustomers.NewId();
        var at = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);

        using var response = await host.Admin.PostAsync("/api/customers", TestCustomers.RegisterBody(id, at).ToJsonString()); // may read: answered whole

        var customer = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/customers/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(id, customer.Str("customerId"));
        Assert.Equal(TestCustomers.Name, customer.Str("name"));
        Assert.Equal(TestCustomers.Email, customer.Str("email"));
        Assert.Equal(TestCustomers.Country, customer.Str("country"));
        Assert.Equal(1, customer.Int("version"));
        Assert.Equal(at, customer.GetProperty("registeredAt").GetDateTimeOffset());
        Assert.Equal(at, customer.GetProperty("updatedAt").GetDateTimeOffset());
        Assert.False(customer.GetProperty("erased").GetBoolean());
        Assert.False(response.Headers.Contains(Replayed));

        var read = await host.GetCustomerAsync(id);
        Assert.True(JsonElement.DeepEquals(customer, read), $"GET differs from the registration's answer.\nPOST: {customer}\nGET:  {read}");
    }

    [Fact]
    public async Task Registering_an_existing_customer_is_409_and_writes_nothing()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);
        var again = TestCustomers.RegisterBody(id);
        again["name"] = "Someone Else";

        using var response = await host.Writer.PostAsync("/api/customers", again.ToJsonString());

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "/problems/already-exists");
        Assert.Equal("Customer already exists", problem.Str("title"));
        await host.AssertNothingWrittenToCustomerAsync(id, 1);
        Assert.Equal(TestCustomers.Name, (await host.GetCustomerAsync(id)).Str("name"));
    }

    [Fact]
    public async Task A_profile_change_answers_200_and_changes_only_what_it_names()
    {
        var id = TestCustomers.NewId();
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        await host.RegisterCustomerAsync(id, at);

        var changed = await host.ChangeProfileAsync(id, TestCustomers.ProfileBody(email: "ada.king@example.org", occurredAt: at.AddMinutes(5)), host.Admin);

        Assert.Equal(2, changed.Int("version"));
        Assert.Equal(TestCustomers.Name, changed.Str("name"));
        Assert.Equal("ada.king@example.org", changed.Str("email"));
        Assert.Equal(TestCustomers.Country, changed.Str("country"));

        var moved = await host.ChangeProfileAsync(id, TestCustomers.ProfileBody(name: "Ada King", country: "FR"), host.Admin);
        Assert.Equal(3, moved.Int("version"));
        Assert.Equal("Ada King", moved.Str("name"));
        Assert.Equal("ada.king@example.org", moved.Str("email"));
        Assert.Equal("FR", moved.Str("country"));
        Assert.True(JsonElement.DeepEquals(moved, await host.GetCustomerAsync(id)));
    }

    [Fact]
    public async Task A_profile_change_of_an_unknown_customer_is_404()
    {
        var id = TestCustomers.NewId();

        using var response = await host.Writer.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(name: "Nobody").ToJsonString());

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        await host.AssertNothingWrittenToCustomerAsync(id, 0);
    }

    public static TheoryData<string, string, string?> RegistrationRules => new()
    {
        { "no customerId", "customerId", null },
        { "a customerId with a space", "customerId", "has space" },
        { "a customerId ending in a newline", "customerId", "c\n" },
        { "a customerId of dots only", "customerId", ".." },
        { "no name", "name", null },
        { "a blank name", "name", "   " },
        { "a name with a line break", "name", "Ada\nLovelace" },
        { "a name over 200 characters", "name", new string('n', 201) },
        { "no email", "email", null },
        { "an email without @", "email", "ada.example.com" },
        { "an email without a domain name", "email", "ada@localhost" },
        { "an email with a display name", "email", "Ada <ada@example.com>" },
        { "an email over 254 characters", "email", new string('a', 60) + "@" + string.Join('.', Enumerable.Repeat(new string('d', 60), 4)) },
        { "no country", "country", null },
        { "a lower-case country", "country", "gb" },
        { "a three-letter country", "country", "GBR" },
        { "a country that is not assigned", "country", "UK" },
        { "an occurredAt in the future", "occurredAt", "future" },
    };

    [Theory]
    [MemberData(nameof(RegistrationRules))]
    public async Task Register_refuses_an_invalid_field_with_400_naming_it_and_writes_nothing(string rule, string field, string? value)
    {
        Assert.NotEmpty(rule);
        var id = TestCustomers.NewId();
        var body = TestCustomers.RegisterBody(id);
        body[field] = field == "occurredAt" ? TestOrders.Time(DateTimeOffset.UtcNow.AddMinutes(10)) : value;
        if (value is null)
        {
            body.Remove(field);
        }

        using var response = await host.Writer.PostAsync("/api/customers", body.ToJsonString());

        var problem = await response.AssertValidationProblemAsync(field);
        Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        await host.AssertNothingWrittenToCustomerAsync(id, 0);
    }

    [Fact]
    public async Task Register_without_a_valid_id_reports_every_invalid_field_at_once()
    {
        var body = new JsonObject { ["customerId"] = "a/b", ["name"] = "", ["email"] = "nope", ["country"] = "de" };

        using var response = await host.Writer.PostAsync("/api/customers", body.ToJsonString());

        await response.AssertValidationProblemAsync("customerId", "name", "email", "country");
    }

    [Fact]
    public async Task Register_with_a_valid_id_reports_every_invalid_field_at_once()
    {
        var id = TestCustomers.NewId();
        var body = new JsonObject { ["customerId"] = id, ["email"] = "nope", ["country"] = "de" };

        using var response = await host.Writer.PostAsync("/api/customers", body.ToJsonString());

        await response.AssertValidationProblemAsync("name", "email", "country");
        await host.AssertNothingWrittenToCustomerAsync(id, 0);
    }

    [Theory]
    [InlineData("{}", "$")]
    [InlineData("""{ "name": "" }""", "name")]
    [InlineData("""{ "email": "ada@" }""", "email")]
    [InlineData("""{ "country": "XX" }""", "country")]
    [InlineData("""{ "name": "Ada\tKing" }""", "name")]
    [InlineData("""{ "name": "Ada Lovelace", "country": "GB" }""", "$")]
    public async Task A_profile_change_that_changes_nothing_or_breaks_a_rule_is_400_and_writes_nothing(string body, string field)
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);

        using var response = await host.Writer.PostAsync($"/api/customers/{id}/profile", body);

        await response.AssertValidationProblemAsync(field);
        await host.AssertNothingWrittenToCustomerAsync(id, 1);
    }

    [Fact]
    public async Task A_profile_change_before_the_customer_s_previous_event_is_400()
    {
        var id = TestCustomers.NewId();
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        await host.RegisterCustomerAsync(id, at);

        using var response = await host.Writer.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(name: "Ada King", occurredAt: at.AddMinutes(-1)).ToJsonString());

        await response.AssertValidationProblemAsync("occurredAt");
        await host.AssertNothingWrittenToCustomerAsync(id, 1);
    }

    [Theory]
    [InlineData("/api/customers/a%20b/profile")]
    [InlineData("/api/customers/c%0A/profile")]
    [InlineData("/api/customers/a%20b/erasure")]
    public async Task A_bad_customer_id_in_a_command_route_is_400(string path)
    {
        using var response = await host.Admin.PostAsync(path, TestCustomers.ProfileBody(name: "Ada").ToJsonString());

        await response.AssertValidationProblemAsync("id");
    }

    /// <summary>Malformed bodies: (case, route: "" to register, "profile" to change; body; the JSON path errors must name; words of its message).</summary>
    public static TheoryData<string, string, string, string, string> MalformedBodies => new()
    {
        { "no body", "", "", "$", "must be a JSON object" },
        { "null body", "", "null", "$", "must be a JSON object" },
        { "not JSON at all", "", "customerId=c-1", "$", "is not valid JSON" },
        { "an array body", "", "[]", "$", "must be an object" },
        { "a number for the name", "", """{ "customerId": "c-1", "name": 5, "email": "a@b.de", "country": "DE" }""", "name", "must be a string" },
        { "an object for the email", "", """{ "customerId": "c-1", "name": "A", "email": {}, "country": "DE" }""", "email", "must be a string" },
        { "a number for a time", "", """{ "customerId": "c-1", "name": "A", "email": "a@b.de", "country": "DE", "occurredAt": 12345 }""", "occurredAt", "ISO 8601" },
        { "a duplicate key", "", """{ "customerId": "c-1", "name": "A", "name": "B", "email": "a@b.de", "country": "DE" }""", "name", "appears more than once" },
        { "a duplicate key in other case", "", """{ "customerId": "c-1", "name": "A", "Name": "B", "email": "a@b.de", "country": "DE" }""", "Name", "appears more than once" },
        { "profile: no body", "profile", "", "$", "must be a JSON object" },
        { "profile: true for the country", "profile", """{ "country": true }""", "country", "must be a string" },
        { "profile: a duplicate email", "profile", """{ "email": "a@b.de", "email": "c@d.de" }""", "email", "appears more than once" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_malformed_body_is_a_plain_400_naming_the_JSON_path(string name, string route, string body, string path, string message)
    {
        Assert.NotEmpty(name);
        var id = route == "" ? null : TestCustomers.NewId();
        if (id is not null)
        {
            await host.RegisterCustomerAsync(id);
        }

        using var response = await host.Writer.PostAsync(id is null ? "/api/customers" : $"/api/customers/{id}/{route}", body);

        var problem = await response.AssertValidationProblemAsync(path);
        Assert.Contains(message, problem.GetProperty("errors").GetProperty(path)[0].GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", problem.ToString(), StringComparison.Ordinal);
        if (id is not null)
        {
            await host.AssertNothingWrittenToCustomerAsync(id, 1);
        }
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_as_for_orders()
    {
        var id = TestCustomers.NewId();
        var body = TestCustomers.RegisterBody(id);
        body["nickname"] = "Ada";
        body["extra"] = new JsonObject { ["a"] = 1 };

        using var response = await host.Writer.PostAsync("/api/customers", body.ToJsonString());

        var customer = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.False(customer.TryGetProperty("nickname", out _));
    }

    [Fact]
    public async Task A_registration_retried_with_the_same_key_and_body_returns_the_first_answer_and_writes_nothing()
    {
        var id = TestCustomers.NewId();
        var key = NewKey();
        var body = TestCustomers.RegisterBody(id).ToJsonString();

        using var first = await host.Writer.PostAsync("/api/customers", body, key);
        var firstBody = await first.BodyAsync();
        using var retry = await host.Writer.PostAsync("/api/customers", body, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.False(first.Headers.Contains(Replayed));
        Assert.Equal("true", retry.Header(Replayed));
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(firstBody, await retry.BodyAsync());
        await host.AssertNothingWrittenToCustomerAsync(id, 1);
    }

    [Fact]
    public async Task A_profile_change_retried_with_the_same_key_is_applied_once_and_another_body_with_it_is_422()
    {
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);
        var key = NewKey();
        var body = TestCustomers.ProfileBody(name: "Ada King").ToJsonString();

        using var first = await host.Writer.PostAsync($"/api/customers/{id}/profile", body, key);
        var firstBody = await first.BodyAsync();
        using var retry = await host.Writer.PostAsync($"/api/customers/{id}/profile", body, key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Header(Replayed));
        Assert.Equal(firstBody, await retry.BodyAsync());
        await host.AssertNothingWrittenToCustomerAsync(id, 2);

        using var other = await host.Writer.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(name: "Someone Else").ToJsonString(), key);
        await other.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/unprocessable");
        await host.AssertNothingWrittenToCustomerAsync(id, 2);
        Assert.Equal("Ada King", (await host.GetCustomerAsync(id)).Str("name"));
    }

    [Fact]
    public async Task A_malformed_Idempotency_Key_is_400_naming_the_header()
    {
        var id = TestCustomers.NewId();

        using var response = await host.Writer.PostAsync("/api/customers", TestCustomers.RegisterBody(id).ToJsonString(), "has space");

        await response.AssertValidationProblemAsync("Idempotency-Key");
        await host.AssertNothingWrittenToCustomerAsync(id, 0);
    }

    [Fact]
    public async Task A_reader_cannot_register_or_change_a_customer_and_a_writer_cannot_read_one()
    {
        var id = TestCustomers.NewId();
        using (var register = await host.Reader.PostAsync("/api/customers", TestCustomers.RegisterBody(id).ToJsonString()))
        {
            await register.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        }

        using (var anonymous = await host.Anonymous.PostAsync("/api/customers", TestCustomers.RegisterBody(id).ToJsonString()))
        {
            await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        }

        await host.AssertNothingWrittenToCustomerAsync(id, 0);
        await host.RegisterCustomerAsync(id);
        using (var change = await host.Reader.PostAsync($"/api/customers/{id}/profile", TestCustomers.ProfileBody(name: "Ada King").ToJsonString()))
        {
            await change.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        }

        using (var read = await host.Writer.GetAsync($"/api/customers/{id}"))
        {
            await read.AssertProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        }

        using (var events = await host.Anonymous.GetAsync($"/api/customers/{id}/events"))
        {
            await events.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        }

        await host.AssertNothingWrittenToCustomerAsync(id, 1);
        using var admin = await host.Admin.GetAsync($"/api/customers/{id}");
        await admin.AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_order_may_name_a_customer_who_registers_later()
    {
        var customerId = TestCustomers.NewId();
        var orderId = TestOrders.NewId();
        var place = TestOrders.PlaceBody(orderId);
        place["customerId"] = customerId;

        using var placed = await host.Writer.PostAsync("/api/orders", place.ToJsonString());
        Assert.Equal(customerId, (await placed.AssertJsonAsync(HttpStatusCode.Created)).Str("customerId"));

        await host.RegisterCustomerAsync(customerId);
        Assert.Equal(customerId, (await host.GetOrderAsync(orderId)).Str("customerId"));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_customer_routes()
    {
        using var response = await host.Anonymous.GetAsync("/openapi/v1.json");

        var paths = (await response.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("paths");
        foreach (var (path, method) in new[]
        {
            ("/api/customers", "post"), ("/api/customers/{id}", "get"), ("/api/customers/{id}/events", "get"),
            ("/api/customers/{id}/profile", "post"), ("/api/customers/{id}/erasure", "post"),
        })
        {
            var operation = paths.TryGetProperty(path, out var operations) && operations.TryGetProperty(method, out var found) ? found : default;
            Assert.True(operation.ValueKind == JsonValueKind.Object, $"The OpenAPI document lacks {method.ToUpperInvariant()} {path}.");
            if (method == "post")
            {
                Assert.True(operation.GetProperty("responses").TryGetProperty("429", out _), $"POST {path} does not document its 429 answer.");
            }
        }
    }
}
