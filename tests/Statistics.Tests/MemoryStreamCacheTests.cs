using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrderFlow.Silo;
using OrderFlow.Streams;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// README "Configuration", <c>Streams:MemoryCacheRetention</c>: the memory streams' cache lets an
/// event go once it is older than the retention. Orleans' default kept every event until it was 30
/// minutes older than the newest, so under load the process grew by the stream's traffic for half an hour.
/// </summary>
public sealed class MemoryStreamCacheTests(AzuriteFixture azurite)
{
    /// <summary>Orleans' own name for the count of events its stream caches purged.</summary>
    private const string PurgedInstrument = "orleans-streams-queue-cache-messages-purged";

    [Fact]
    public async Task Events_leave_the_memory_stream_cache_once_older_than_the_retention()
    {
        var ct = TestContext.Current.CancellationToken;
        using var purges = new PurgeListener();
        await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct,
            new Dictionary<string, string?> { [OrderFlowSiloExtensions.MemoryStreamCacheRetentionKey] = "00:00:01" });

        // What the stream provider of this host is given (Orleans' meter below counts every cache created since the listener).
        var eviction = host.Services.GetRequiredService<IOptionsMonitor<StreamCacheEvictionOptions>>().Get(OrderEventStreams.ProviderName);
        Assert.Equal(TimeSpan.FromSeconds(1), eviction.DataMinTimeInCache);
        Assert.Equal(TimeSpan.FromSeconds(1), eviction.DataMaxAgeInCache);
        Assert.True(eviction.MetadataMinTimeInCache >= new StreamPullingAgentOptions().StreamInactivityPeriod,
            "a shard quiet for longer than the retention would miss the event that wakes it");

        // Events keep arriving, so the first ones become older than the newest by more than the
        // retention; with Orleans' default (30 minutes) none would go in this test's time.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        for (var i = 0; !purges.Purged && DateTime.UtcNow < deadline; i++)
        {
            using var placed = await host.Http.PostAsJsonAsync("/api/orders", new
            {
                orderId = $"cache-{i}",
                customerId = "customer-cache",
                currency = "EUR",
                items = new[] { new { sku = "SKU-1", quantity = 1, unitPrice = 10.00m } },
            }, ct);
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
            await Task.Delay(250, ct);
            purges.Observe();
        }

        Assert.True(purges.Purged, "the memory stream cache purged no event within 90 s with a retention of 1 s");
    }

    /// <summary>
    /// A consumer's cursor stands still while the agent retries one batch: up to its longest delivery
    /// time, then a last attempt and the error notice, each up to a silo's response timeout. The
    /// events behind it must still be there when it goes on.
    /// </summary>
    [Fact]
    public void The_default_retention_outlasts_a_batch_retried_to_the_end() =>
        Assert.True(OrderFlowSiloExtensions.DefaultMemoryStreamCacheRetention
            >= new StreamPullingAgentOptions().MaxEventDeliveryTime + 2 * new SiloMessagingOptions().ResponseTimeout);

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:00:00.5")]
    public async Task A_silo_with_a_retention_under_a_second_does_not_start(string retention)
    {
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var host = await StatsApiHost.StartAsync(azurite.ConnectionString, ct,
                new Dictionary<string, string?> { [OrderFlowSiloExtensions.MemoryStreamCacheRetentionKey] = retention });
        });

        Assert.Contains(OrderFlowSiloExtensions.MemoryStreamCacheRetentionKey, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether a stream cache created after this listener purged an event (Orleans' observable counter
    /// of purged events). Orleans' meter is static and keeps every cache's counter for the life of
    /// the process: the caches of hosts other tests started before, and their totals, are left out.
    /// </summary>
    private sealed class PurgeListener : IDisposable
    {
        private readonly MeterListener listener = new();
        private bool started;
        private int purged;

        public PurgeListener()
        {
            listener.InstrumentPublished = (instrument, meters) =>
            {
                // Start() announces the instruments that already exist, synchronously, before started is set.
                if (instrument.Name == PurgedInstrument && Volatile.Read(ref started))
                {
                    meters.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                if (value > 0)
                {
                    Volatile.Write(ref purged, 1);
                }
            });
            listener.Start();
            Volatile.Write(ref started, true);
        }

        public bool Purged => Volatile.Read(ref purged) == 1;

        /// <summary>Asks observable instruments for their totals.</summary>
        public void Observe() => listener.RecordObservableInstruments();

        public void Dispose() => listener.Dispose();
    }
}
