using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>Risk thresholds that make a rule meaningless stop the silo at start, naming the setting.</summary>
public sealed class RiskOptionsStartupTests(AzuriteFixture azurite)
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
    public async Task A_silo_with_a_meaningless_risk_threshold_does_not_start(string key, string value)
    {
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("ro"), ct, new Dictionary<string, string?> { [key] = value });
        });

        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }
}
