using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;

namespace OrderFlow.Api.Operations;

/// <summary>
/// Ready only if a table answers <paramref name="ping"/>. Its time is bounded by the check's
/// registration (<see cref="OperationsApi.CheckBudget"/>), which cancels <c>cancellationToken</c>.
/// </summary>
/// <param name="what">Names the table in the check's description ("Table", "Key table").</param>
public abstract class TableHealthCheck(string what, string tableName, Func<CancellationToken, Task> ping) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await ping(cancellationToken);
            return HealthCheckResult.Healthy($"{what} '{tableName}' answers.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{what} '{tableName}' did not answer within {OperationsApi.CheckBudget.TotalMilliseconds:0} ms.");
        }
        catch (Exception exception)
        {
            // The error's text stays in the log: the answer is anonymous, and the text can name internal addresses.
            return HealthCheckResult.Unhealthy($"{what} '{tableName}' does not answer.", exception);
        }
    }
}

/// <summary>Ready only if the event log's table answers.</summary>
public sealed class EventStoreHealthCheck(TableEventStore store) : TableHealthCheck("Table", store.TableName, token => store.PingAsync(token));

/// <summary>
/// Ready only if the data subjects' key table answers (README "Personal data"): it may live in
/// another storage account (<c>ConnectionStrings:Keys</c>), and without it no command carrying
/// personal data and no read that shows it can be served.
/// </summary>
public sealed class KeyStoreHealthCheck(SubjectKeyStore keys) : TableHealthCheck("Key table", keys.TableName, token => keys.PingAsync(token));

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
            return HealthCheckResult.Unhealthy("The cluster does not answer.", exception);
        }
    }
}
