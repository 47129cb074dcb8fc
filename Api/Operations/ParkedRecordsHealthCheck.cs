using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderFlow.Projections;

namespace OrderFlow.Api.Operations;

/// <summary>
/// Degraded (HTTP 200, not 503) while anything is parked: one bad record is not an outage, but
/// someone should look at GET /api/admin/parked.
/// </summary>
public sealed class ParkedRecordsHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var parked = await grains.GetGrain<IParkedRecordsGrain>(0).List().WaitAsync(cancellationToken); // within the readiness budget it is registered with
            if (parked.Count == 0 && parked.NotListed == 0)
            {
                return HealthCheckResult.Healthy("Nothing is parked.");
            }

            var kinds = string.Join(", ", parked.Records.GroupBy(r => r.Kind).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
            var beyond = parked.NotListed > 0 ? $", and {parked.NotListed} more failures beyond the list's bound" : "";
            return HealthCheckResult.Degraded($"{parked.Count} records are parked ({kinds}){beyond}; see GET /api/admin/parked.");
        }
        catch (Exception exception)
        {
            // The error's text stays in the log (as TableHealthCheck's): the answer is anonymous, and Orleans' messages name silo addresses.
            return HealthCheckResult.Degraded("The parked records could not be read.", exception);
        }
    }
}
