using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrderFlow.Cluster.Tests.Infrastructure;
using OrderFlow.Silo;
using Orleans.Runtime.Messaging;

namespace OrderFlow.Cluster.Tests;

/// <summary>
/// README "Cluster mode", TLS, on the processes <c>./run.sh --silos 3</c> starts: every Orleans
/// connection is mutual TLS with the certificate run.sh made for the run; a client or a silo with
/// another certificate, or none, is refused at the handshake.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class ClusterTlsTests(LocalCluster cluster)
{
    private static readonly DateTimeOffset Day = new(DateTime.UtcNow.Date.AddDays(-3), TimeSpan.Zero);

    /// <summary>A third of Orleans' default 3 minutes of attempts.</summary>
    private static readonly TimeSpan RefusalBound = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Every_silo_serves_orders_over_mutual_tls_with_the_runs_certificate()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(cluster.CertificatePath, password: null);
        var thumbprint = ClusterCertificate.Thumbprint(certificate);

        var load = new OrderLoad(cluster, Run(), Day);
        await load.RunAsync(maxOrders: 30, concurrency: 6, ct);
        LoadChecks.AssertAnswers(load);

        var active = (await cluster.ClusterAsync()).Silos.Where(s => s.Status == "Active").ToList();
        Assert.Equal(LocalCluster.Silos, active.Count);
        Assert.All(active, silo => Assert.True(
            silo.ActivationsByGrainType.Where(t => t.Key.Contains(".OrderGrain,", StringComparison.Ordinal)).Sum(t => t.Value) > 0,
            $"The silo on port {silo.SiloPort} holds no order activation."));
        for (var silo = 1; silo <= LocalCluster.Silos; silo++)
        {
            Assert.Contains($"connections: mutual TLS with CN=orderflow-local-cluster (SHA-256 {thumbprint}", cluster.LogOf(silo), StringComparison.Ordinal);
        }

        // The API, a client here, watches the certificate's expiry (its readiness).
        using var ready = await cluster.Http.GetAsync("/health/ready", ct);
        var expiry = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("checks").GetProperty("cluster-certificate");
        Assert.Equal(("Healthy", $"The cluster certificate is valid until {new DateTimeOffset(certificate.NotAfter.ToUniversalTime()):u}."),
            (expiry.GetProperty("status").GetString(), expiry.GetProperty("description").GetString()));

        await LoadChecks.AssertLogHoldsExactlyTheAcknowledgedAsync(cluster, load, ct);
    }

    [Fact]
    public async Task A_client_with_the_clusters_certificate_connects()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        using var client = Client(cluster.CertificatePath);

        await client.StartAsync(ct);
        var management = client.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(true, ct);

        Assert.Equal(LocalCluster.Silos, hosts.Count);
        await client.StopAsync(ct);
    }

    /// <summary>
    /// Both at once. Each fails its start soon, saying that it is about TLS and which certificate
    /// (<see cref="ClientConnectionRetry"/>), where Orleans' default tried for 3 minutes and then
    /// said only that no gateway could be reached. The bound is generous (a loaded machine); a
    /// client that tried Orleans' 15 times would exceed it.
    /// </summary>
    [Fact]
    public async Task A_client_with_another_certificate_or_none_is_refused_soon_saying_why()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.EnsureAllSilosRunAsync();
        using var stranger = Client(StrangerCertificate());
        using var plain = Client(certificatePath: null);
        var watch = Stopwatch.StartNew();

        var refusals = await Task.WhenAll(Refusal(stranger, ct), Refusal(plain, ct));

        Log($"both refused within {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.All(refusals, refused =>
        {
            Log($"refused: {refused.GetType().Name}: {refused.Message}");
            Assert.IsType<ConnectionFailedException>(refused);
            Assert.Contains("TLS", refused.Message, StringComparison.Ordinal);
            Assert.Contains("certificate", refused.Message, StringComparison.Ordinal);
        });
        Assert.Contains("present a TLS certificate this client does not accept", refusals[0].Message, StringComparison.Ordinal);
        Assert.Contains("this client has no certificate", refusals[1].Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < RefusalBound, $"The refused clients took {watch.Elapsed.TotalSeconds:0} s to give up.");
    }

    [Fact]
    public async Task A_silo_with_another_certificate_cannot_join()
    {
        await cluster.EnsureAllSilosRunAsync();
        var before = (await cluster.ClusterAsync()).Silos.Where(s => s.Status == "Active").Select(s => s.Address).Order().ToList();

        // Silo 4's ports, the cluster's tables and cluster id: all it lacks is the certificate.
        using var stranger = cluster.StartSilo(4, new Dictionary<string, string> { ["Orleans__Tls__CertificatePath"] = StrangerCertificate() });
        await LocalCluster.WaitUntilAsync("the stranger silo to give up", TimeSpan.FromMinutes(3), () => Task.FromResult(stranger.HasExited));

        Assert.NotEqual(0, stranger.ExitCode);
        Assert.Contains("The remote certificate was rejected by the provided RemoteCertificateValidationCallback", cluster.Output(2000), StringComparison.Ordinal);
        var port = cluster.SiloPortOf(4).ToString(CultureInfo.InvariantCulture);
        var rows = new TableClient(cluster.StorageConnection, "OrleansSiloInstances").Query<TableEntity>(cancellationToken: TestContext.Current.CancellationToken)
            .Where(r => r.ContainsKey("Port") && Convert.ToString(r["Port"], CultureInfo.InvariantCulture) == port)
            .ToList();
        Assert.All(rows, row => Assert.NotEqual("Active", row.GetString("Status")));
        var after = (await cluster.ClusterAsync()).Silos.Where(s => s.Status == "Active").Select(s => s.Address).Order().ToList();
        Assert.Equal(before, after);
    }

    /// <summary>An Orleans client configured as the API's (<see cref="OrderFlowClientExtensions.UseOrderFlowClient"/>), with the given certificate or none.</summary>
    private IHost Client(string? certificatePath)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tables"] = cluster.StorageConnection,
            ["Orleans:Clustering"] = "AzureTable",
            ["Orleans:ApiHost"] = "Client",
            [ClusterTlsSettings.CertificatePathKey] = certificatePath,
            ["Dashboard:Enabled"] = "false",
        });
        builder.UseOrleansClient(client => client.UseOrderFlowClient(builder.Configuration));
        return builder.Build();
    }

    private static async Task<Exception> Refusal(IHost client, CancellationToken cancellationToken) =>
        await Assert.ThrowsAnyAsync<Exception>(() => client.StartAsync(cancellationToken));

    private static string StrangerCertificate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"orderflow-stranger-{Run()}.pfx");
        using var certificate = ClusterCertificate.CreateSelfSigned("orderflow-local-cluster", TimeSpan.FromDays(1));
        ClusterCertificate.WritePfx(certificate, path);
        return path;
    }

    private static string Run() => Guid.NewGuid().ToString("N")[..8];

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
