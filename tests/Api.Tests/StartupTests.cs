using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>API.md "Authentication": outside Development the API refuses to start without keys; Development without keys runs open.</summary>
public sealed class StartupTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void Outside_Development_without_keys_the_API_refuses_to_start_and_says_how_to_configure_keys(string environment)
    {
        var (args, settings) = ApiHost.Configuration(azurite.ConnectionString, environment, withKeys: false, Azurite.FreePort());

        var error = Assert.Throws<InvalidOperationException>(() =>
            ApiApplication.Build(args, builder => builder.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains("Api__Keys__0__Key", error.Message, StringComparison.Ordinal);
        Assert.Contains("Api__Keys__0__Role", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Development_without_keys_the_API_serves_commands_and_queries_without_a_key_and_warns()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, "Development", withKeys: false,
            configure: builder => builder.Logging.AddProvider(logs));
        var id = TestOrders.NewId();

        using var place = await host.Anonymous.PostAsync("/api/orders", TestOrders.PlaceBody(id).ToJsonString());
        await place.AssertJsonAsync(HttpStatusCode.Created);
        using var pay = await host.Anonymous.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString());
        await pay.AssertJsonAsync(HttpStatusCode.OK);
        using var read = await host.Anonymous.GetAsync($"/api/orders/{id}");
        Assert.Equal("paid", (await read.AssertJsonAsync(HttpStatusCode.OK)).Str("status"));
        using var events = await host.Anonymous.GetAsync($"/api/orders/{id}/events");
        await events.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Authentication is OFF", StringComparison.OrdinalIgnoreCase));
    }
}
