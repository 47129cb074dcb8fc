using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderFlow.Silo;

namespace OrderFlow.Api.Operations;

/// <summary>
/// Degraded (HTTP 200, not 503) from <see cref="RenewalWarning"/> before the cluster certificate
/// (README "Cluster mode", TLS) expires: the processes running keep their connections, but a silo
/// or API replica that starts after the expiry refuses to (a restart, a scale-out, a crash), so the
/// cluster would drain away replica by replica. Healthy without TLS.
/// </summary>
public sealed class ClusterCertificateHealthCheck(IServiceProvider services, TimeProvider time) : IHealthCheck
{
    /// <summary>How long before its expiry the certificate is reported: time to renew it and roll it out.</summary>
    public static readonly TimeSpan RenewalWarning = TimeSpan.FromDays(14);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<ClusterTlsSettings>() is not { } tls)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Plain TCP: no cluster certificate."));
        }

        var expires = new DateTimeOffset(tls.Certificate.NotAfter.ToUniversalTime());
        return Task.FromResult(expires - time.GetUtcNow() > RenewalWarning
            ? HealthCheckResult.Healthy($"The cluster certificate is valid until {expires:u}.")
            : HealthCheckResult.Degraded(
                $"The cluster certificate expires at {expires:u}: a silo or API replica that starts after that refuses to start. Renew it (README \"Cluster mode\": a new certificate, accepted beside the old one first)."));
    }
}
