using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Api.Operations;

/// <summary>Ready only if the event log's storage answers.</summary>
public sealed class EventStoreHealthCheck(TableEventStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await store.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy($"Table '{store.TableName}' answers.");
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy($"Table '{store.TableName}' does not answer: {exception.Message}");
        }
    }
}

/// <summary>Ready only if the Orleans cluster has an active silo.</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return hosts.Count > 0
                ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s).")
                : HealthCheckResult.Unhealthy("No active silo.");
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy($"The cluster does not answer: {exception.Message}");
        }
    }
}
