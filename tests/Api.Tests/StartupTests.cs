using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Authentication": outside Development the API refuses to start without keys or Entra ID; Development without either runs open.</summary>
public sealed class StartupTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void Outside_Development_without_keys_or_Entra_ID_the_API_refuses_to_start_and_says_how_to_configure_either(string environment)
    {
        var (args, settings) = ApiHost.Configuration(azurite.ConnectionString, environment, withKeys: false, Azurite.FreePort());

        var error = Assert.Throws<InvalidOperationException>(() =>
            ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains("Api__Keys__0__Key", error.Message, StringComparison.Ordinal);
        Assert.Contains("Api__Keys__0__Role", error.Message, StringComparison.Ordinal);
        Assert.Contains("Authentication__Entra__TenantId", error.Message, StringComparison.Ordinal);
        Assert.Contains("Authentication__Entra__ClientId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entra_ID_with_a_tenant_but_no_audience_refuses_to_start_and_names_the_setting()
    {
        var (args, settings) = ApiHost.Configuration(azurite.ConnectionString, "Production", withKeys: true, Azurite.FreePort());
        settings["Authentication:Entra:TenantId"] = TestTokens.TenantId;

        var error = Assert.Throws<InvalidOperationException>(() =>
            ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains("Authentication:Entra:ClientId", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "10")]
    [InlineData("5", "0")]
    public void Rate_limits_that_would_refuse_every_command_refuse_to_start(string permitsPerSecond, string burst)
    {
        var (args, settings) = ApiHost.Configuration(azurite.ConnectionString, "Production", withKeys: true, Azurite.FreePort());
        settings["RateLimiting:Commands:PermitsPerSecond"] = permitsPerSecond;
        settings["RateLimiting:Commands:Burst"] = burst;

        var error = Assert.Throws<InvalidOperationException>(() =>
            ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains("RateLimiting:Commands", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:02:01")]
    public void A_shutdown_drain_below_zero_or_beyond_two_minutes_refuses_to_start(string drain)
    {
        var (args, settings) = ApiHost.Configuration(azurite.ConnectionString, "Production", withKeys: true, Azurite.FreePort());
        settings[Operations.ShutdownDrain.Setting] = drain;

        var error = Assert.Throws<InvalidOperationException>(() =>
            ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains(Operations.ShutdownDrain.Setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Production_with_Entra_ID_and_no_keys_the_API_starts_and_takes_tokens_only()
    {
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, "Production", withKeys: false, configure: TestTokens.AcceptTestTokens);
        var id = TestOrders.NewId();

        using var anonymous = await host.Anonymous.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        Assert.Equal("Bearer", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);
        using var key = await host.WithKey(ApiHost.AdminKey).PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await key.AssertProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");

        using var token = await host.WithToken(TestTokens.Issue(["admin"])).PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await token.AssertJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task In_Development_without_keys_the_API_serves_commands_and_queries_without_a_key_and_warns()
    {
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, "Development", withKeys: false);
        var id = TestOrders.NewId();

        using var place = await host.Anonymous.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);
        using var pay = await host.Anonymous.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await pay.AssertJsonAsync(HttpStatusCode.OK);
        using var read = await host.Anonymous.GetAsync($"/api/orders/{id}");
        Assert.Equal("paid", (await read.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
        using var events = await host.Anonymous.GetAsync($"/api/orders/{id}/events");
        await events.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Contains(host.Log.GetSnapshot(), e => e.Level == LogLevel.Warning && e.Message.Contains("Authentication is OFF", StringComparison.OrdinalIgnoreCase));
    }
}
