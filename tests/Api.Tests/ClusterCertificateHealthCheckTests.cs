using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderFlow.Api.Operations;
using OrderFlow.Silo;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Review finding: a cluster certificate that expires stops every silo or API replica that starts
/// afterwards, while the processes running go on, and nothing said so beforehand (the local tool
/// makes 30-day certificates). Readiness turns Degraded (still 200) two weeks before.
/// </summary>
public sealed class ClusterCertificateHealthCheckTests
{
    [Theory]
    [InlineData(60, HealthStatus.Healthy)]
    [InlineData(10, HealthStatus.Degraded)]
    public async Task A_certificate_near_its_expiry_makes_readiness_degraded(int daysLeft, HealthStatus expected)
    {
        var folder = Path.Combine(Path.GetTempPath(), "cluster-certificate-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(folder, "cluster.pfx");
            using (var certificate = ClusterCertificate.CreateSelfSigned("orderflow-test", TimeSpan.FromDays(daysLeft)))
            {
                ClusterCertificate.WritePfx(certificate, path);
            }

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ClusterTlsSettings.CertificatePathKey] = path }).Build();
            using var services = new ServiceCollection().AddSingleton(ClusterTlsSettings.From(configuration)!).BuildServiceProvider();

            var result = await new ClusterCertificateHealthCheck(services, TimeProvider.System).CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

            Assert.Equal(expected, result.Status);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Without_tls_there_is_nothing_to_expire()
    {
        using var services = new ServiceCollection().BuildServiceProvider();

        var result = await new ClusterCertificateHealthCheck(services, TimeProvider.System).CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }
}
