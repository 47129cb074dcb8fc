using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// README "Telemetry": the API host, running, sends its telemetry where the configuration says. The
/// receiver is a stand-in that accepts OTLP over HTTP (protobuf) and Application Insights' ingestion
/// calls, and notes what each export carried.
/// </summary>
public sealed class ExportingHostTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task An_OTLP_endpoint_in_the_configuration_receives_traces_and_metrics()
    {
        var received = new LockedCollection<string>();
        await using var collector = await StartReceiverAsync(received);
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [OrderFlowOpenTelemetry.OtlpEndpointKey] = collector.Urls.Single(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                // Exports within a test's patience (the defaults are 5 s for spans, 60 s for metrics).
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "250",
            }));

        await host.OrderInStatusAsync("placed");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(received.Contains("traces") && received.Contains("metrics")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var signals = string.Join(", ", received.Snapshot().Distinct());
        Assert.True(received.Contains("traces"), $"The collector received no traces; it received: {signals}");
        Assert.True(received.Contains("metrics"), $"The collector received no metrics; it received: {signals}");
    }

    [Fact]
    public async Task With_an_Application_Insights_connection_string_the_API_serves_and_sends_its_telemetry_there()
    {
        var received = new LockedCollection<string>();
        await using var ingestion = await StartReceiverAsync(received);
        var endpoint = ingestion.Urls.Single();
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [OrderFlowOpenTelemetry.ApplicationInsightsKey] =
                    $"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={endpoint}/;LiveEndpoint={endpoint}/",
            }));

        await host.OrderInStatusAsync("placed");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!received.Contains("track") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.True(received.Contains("track"), $"Nothing reached the ingestion endpoint; it received: {string.Join(", ", received.Snapshot().Distinct())}");
    }

    /// <summary>
    /// A receiver on a free loopback port: OTLP/HTTP exports (noted by signal: <c>traces</c>,
    /// <c>metrics</c>, <c>logs</c>) and Application Insights' ingestion (noted as <c>track</c>), each
    /// answered with success.
    /// </summary>
    private static async Task<WebApplication> StartReceiverAsync(LockedCollection<string> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = builder.Build();
        receiver.MapPost("/v1/{signal}", (string signal) =>
        {
            received.Add(signal);
            return Results.Bytes([], "application/x-protobuf");
        });
        receiver.MapPost("/v2.1/track", () =>
        {
            received.Add("track");
            return Results.Json(new { itemsReceived = 0, itemsAccepted = 0, errors = Array.Empty<object>() });
        });
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        return receiver;
    }
}
