using System.Collections.Immutable;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using OrderFlow.Grains.Statistics;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Streams;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Projection state through the real Azure Table grain storage on Azurite: a busy projection
/// still fits its one entity (at most 1 MiB), and a write whose answer was lost does not stop it
/// persisting.
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
        var envelopes = OrdersOnShardZero(day, "cap", 5_000);

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

    /// <summary>
    /// The storage client retries a request whose answer it did not get in time; when the first
    /// attempt of a conditional state write had landed, the retry finds the row changed (another
    /// ETag) and fails, and so did every later write of the grain: its counts never reached
    /// storage again (a rebuild under load ended with month rollups short). Simulated here by
    /// changing the row's ETag behind the grain's back.
    /// </summary>
    [Fact]
    public async Task A_projection_whose_own_write_landed_unseen_keeps_persisting()
    {
        var ct = TestContext.Current.CancellationToken;
        var tables = ClusterTables.Unique("etag");
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, tables, ct);
        var day = new DateOnly(2026, 10, 6);
        var envelopes = OrdersOnShardZero(day, "etag", 50);
        var grain = cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day));
        await grain.IngestAndPersist(envelopes[..100]);

        // The row as the grain wrote it, rewritten unchanged: only its ETag moves on.
        var table = new TableClient(azurite.ConnectionString, tables.Statistics);
        var row = await table.QueryAsync<TableEntity>(e => e.RowKey == "day", cancellationToken: ct).FirstAsync(ct);
        await table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace, ct);

        await grain.IngestAndPersist(envelopes[100..]);

        await cluster.DeactivateAsync(grain);
        var minutes = await cluster.Client.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(1, 0, day)).GetMinutes(0, 1440);
        Assert.Equal(envelopes.Count, minutes.Values.Sum(bucket => bucket.Events.Values.Sum()));
    }

    /// <summary>Orders of 4 events on shard 0, at random times of <paramref name="day"/>, with stage latencies spread over four orders of magnitude.</summary>
    private static List<OrderEventEnvelope> OrdersOnShardZero(DateOnly day, string prefix, int orders)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var random = new Random(3);
        string[] types = [nameof(OrderPlaced), nameof(OrderPaid), nameof(OrderShipped), nameof(OrderDelivered)];
        var envelopes = new List<OrderEventEnvelope>();
        for (var i = 0; envelopes.Count < orders * 4; i++)
        {
            var orderId = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D6}");
            if (OrderEventStreams.ShardOf(orderId) != 0)
            {
                continue;
            }

            for (var version = 1; version <= 4; version++)
            {
                envelopes.Add(new OrderEventEnvelope(
                    orderId, version, Guid.NewGuid(), types[version - 1], start.AddSeconds(random.Next(86_400)),
                    prefix + "-customer", "EUR", 25.5m, version == 2 ? 25.5m : 0m,
                    version <= 2 ? [new OrderLine(string.Create(CultureInfo.InvariantCulture, $"CAP-{random.Next(200)}"), 1, 25.5m)] : ImmutableArray<OrderLine>.Empty,
                    (OrderStatus)version, (OrderStatus)(version + 1),
                    version == 2 ? random.Next(10, 100_000) + random.NextDouble() : null,
                    version == 3 ? random.Next(10, 100_000) + random.NextDouble() : null,
                    version == 4 ? random.Next(10, 100_000) + random.NextDouble() : null));
            }
        }

        return envelopes;
    }
}
