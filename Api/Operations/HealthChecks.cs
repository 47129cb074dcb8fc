using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Api.Operations;

/// <summary>
/// Ready only if the event log's storage answers. Its time is bounded by the check's registration
/// (<see cref="OperationsApi.CheckBudget"/>), which cancels <c>cancellationToken</c>.
/// </summary>
public sealed class EventStoreHealthCheck(TableEventStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy($"Table '{store.TableName}' answers.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Table '{store.TableName}' did not answer within {OperationsApi.CheckBudget.TotalMilliseconds:0} ms.");
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy($"Table '{store.TableName}' does not answer: {exception.Message}");
        }
    }
}

/// <summary>Ready only if the Orleans cluster has an active silo; bounded like <see cref="EventStoreHealthCheck"/>.</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(cancellationToken);
            return hosts.Count > 0
                ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s).")
                : HealthCheckResult.Unhealthy("No active silo.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The cluster did not answer within {OperationsApi.CheckBudget.TotalMilliseconds:0} ms.");
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy($"The cluster does not answer: {exception.Message}");
        }
    }
}
