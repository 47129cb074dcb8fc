using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// README "Telemetry": with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the API host sends its traces and
/// metrics there. The collector is a stand-in that accepts OTLP over HTTP (protobuf) and notes which
/// signal each export carried.
/// </summary>
public sealed class OtlpExportTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task An_OTLP_endpoint_in_the_configuration_receives_traces_and_metrics()
    {
        var received = new LockedCollection<string>();
        await using var collector = await StartCollectorAsync(received);
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

    /// <summary>An OTLP/HTTP receiver on a free loopback port that answers every export with success.</summary>
    private static async Task<WebApplication> StartCollectorAsync(LockedCollection<string> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var collector = builder.Build();
        collector.MapPost("/v1/{signal}", (string signal) =>
        {
            received.Add(signal);
            return Results.Bytes([], "application/x-protobuf");
        });
        await collector.StartAsync(TestContext.Current.CancellationToken);
        return collector;
    }
}
