using System.Collections.Immutable;
using System.Globalization;
using OrderFlow.Grains.Statistics;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// A projection's state is one table entity (at most 1 MiB). These check that a busy projection
/// still persists and reads back, through the real Azure Table grain storage on Azurite.
/// </summary>
public sealed class ProjectionCapacityTests(AzuriteFixture azurite)
{
    /// <summary>
    /// 5,000 orders of 4 events in one day of one shard (40,000 orders a day over the 8 shards),
    /// with stage latencies spread over four orders of magnitude. In Orleans' default JSON grain
    /// state format the day took 3.4 MiB and could not be written at all.
    /// </summary>
    [Fact]
    public async Task A_busy_day_of_one_shard_persists_and_reads_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("cap"), ct);
        var day = new DateOnly(2026, 10, 5);
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var random = new Random(3);
        string[] types = [nameof(OrderPlaced), nameof(OrderPaid), nameof(OrderShipped), nameof(OrderDelivered)];
        var envelopes = new List<OrderEventEnvelope>();
        for (var i = 0; envelopes.Count < 20_000; i++)
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"cap-{i:D6}");
            if (OrderEventStreams.ShardOf(orderId) != 0)
            {
                continue;
            }

            for (var version = 1; version <= 4; version++)
            {
                envelopes.Add(new OrderEventEnvelope(
                    orderId, version, Guid.NewGuid(), types[version - 1], start.AddSeconds(random.Next(86_400)),
                    "cap-customer", "EUR", 25.5m, version == 2 ? 25.5m : 0m,
                    version <= 2 ? [new OrderLine(string.Create(CultureInfo.InvariantCulture, $"CAP-{random.Next(200)}"), 1, 25.5m)] : ImmutableArray<OrderLine>.Empty,
                    (OrderStatus)version, (OrderStatus)(version + 1),
                    version == 2 ? random.Next(10, 100_000) + random.NextDouble() : null,
                    version == 3 ? random.Next(10, 100_000) + random.NextDouble() : null,
                    version == 4 ? random.Next(10, 100_000) + random.NextDouble() : null));
            }
        }

        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));
        foreach (var batch in envelopes.Chunk(2_000))
        {
            await grain.IngestAndPersist(batch);
        }

        // Read back from storage by a new activation.
        await cluster.DeactivateAsync(grain);
        var minutes = await cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day)).GetMinutes(0, 1440);
        Assert.Equal(envelopes.Count, minutes.Values.Sum(bucket => bucket.Events.Values.Sum()));
        Assert.Equal(envelopes.Count / 4, minutes.Values.Sum(bucket => bucket.PlacedToPaid.Count));
    }
}
