using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;
using OrderFlow.Testing.Logging;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Settings that storage would refuse later, or that make a rule or a loop meaningless, stop the silo
/// at start, naming the setting (before: some failed every command or evaluation, some spun).
/// </summary>
public sealed class SettingsStartupTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("Statistics:Risk:NewAccountWindow", "00:00:00")]
    [InlineData("Statistics:Risk:NewAccountLargeOrderAmount", "-1")]
    [InlineData("Statistics:Risk:VelocityMaxOrders", "0")]
    [InlineData("Statistics:Risk:VelocityWindow", "-00:01:00")]
    [InlineData("Statistics:Risk:LargeOrderFactor", "0.5")]
    [InlineData("Statistics:Risk:LargeOrderMinHistory", "0")]
    [InlineData("Statistics:Risk:CancelRefundRatio", "0")]
    [InlineData("Statistics:Risk:CancelRefundRatio", "1.5")]
    [InlineData("Statistics:Risk:CancelRefundRatio", "NaN")]
    [InlineData("Statistics:Risk:CancelRefundMinOrders", "0")]
    [InlineData("Statistics:TableName", "stats-table")]
    [InlineData("Statistics:FlushInterval", "48.00:00:00")]
    [InlineData("Statistics:ClosedOrderMemory", "-1.00:00:00")]
    [InlineData("Statistics:Reconciliation:Interval", "00:00:00")]
    [InlineData("Statistics:Reconciliation:Settle", "-00:00:01")]
    [InlineData("Statistics:Reconciliation:MaxChangesPerPass", "0")]
    [InlineData("Statistics:Parking:FirstRetry", "00:00:00")]
    [InlineData("Statistics:Parking:MaxRetry", "00:00:00")]
    [InlineData("Statistics:Parking:FlushFailuresBeforeParking", "0")]
    [InlineData("Statistics:Parking:DeliveryFailuresBeforeParking", "0")]
    [InlineData("EventStore:TableName", "events_1")]
    [InlineData("EventStore:TableName", "e123456789e123456789e123456789e123456789e123456789e123456789")]
    [InlineData("EventStore:ChangesTableName", "1changes")]
    [InlineData("EventStore:SnapshotInterval", "0")]
    [InlineData("EventStore:OperationTimeout", "00:00:00")]
    [InlineData("EventStore:ChangeBucket", "00:00:00.500")]
    [InlineData("EventStore:RollbackWatchInterval", "-00:00:01")]
    [InlineData("PersonalData:KeysTableName", "keys-table")]
    public async Task A_silo_with_a_meaningless_setting_does_not_start(string key, string value)
    {
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("ro"), ct, new Dictionary<string, string?> { [key] = value });
        });

        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Review finding: no queue at all made Orleans use its own default queues, which no other silo reads.</summary>
    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task A_silo_with_no_stream_queue_does_not_start(string count)
    {
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("queues"), ct, new Dictionary<string, string?>
            {
                [OrderFlow.Silo.OrderFlowSiloExtensions.StreamsProviderKey] = "AzureQueue",
                [OrderFlow.Silo.OrderFlowSiloExtensions.QueueCountKey] = count,
            });
        });

        Assert.Contains(OrderFlow.Silo.OrderFlowSiloExtensions.QueueCountKey + " is " + count, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Review finding: the warning about a short settle time compared it with two event-log operations
    /// (12 s) only, while a request the writer gave up on can land until the storage's own 30-s timeout.
    /// </summary>
    [Fact]
    public async Task A_settle_time_shorter_than_the_storages_own_timeout_is_warned_about()
    {
        var ct = TestContext.Current.CancellationToken;
        var log = LogCapture.WarningsAndErrors();
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("settle"), ct,
            new Dictionary<string, string?> { ["Statistics:Reconciliation:Settle"] = "00:00:20" },
            configureSilo: silo => silo.Services.AddLogging(logging => logging.AddCapture(log)));

        Assert.Contains(log.Messages(), line => line.Contains("Statistics:Reconciliation:Settle (00:00:20) is shorter", StringComparison.Ordinal));

        // The default (a minute) is not.
        var quiet = LogCapture.WarningsAndErrors();
        await using var byDefault = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("settledefault"), ct,
            configureSilo: silo => silo.Services.AddLogging(logging => logging.AddCapture(quiet)));
        Assert.DoesNotContain(quiet.Messages(), line => line.Contains("Statistics:Reconciliation:Settle", StringComparison.Ordinal));
    }
}
