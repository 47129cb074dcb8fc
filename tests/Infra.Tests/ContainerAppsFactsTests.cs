using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orleans.Configuration;
using OrderFlow.Infra.Tests.Bicep;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests;

/// <summary>
/// What a deployment of infra/main.bicep does with the two container apps (issue 11, "Azure
/// hosting"): silos never below two replicas and given time to stop, probed on their ports; the
/// API public over HTTPS only, a client of the cluster, scaled on HTTP load; every setting the
/// apps read in Azure.
/// </summary>
public sealed class ContainerAppsFactsTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    [Fact]
    public void Silos_never_run_fewer_than_two_replicas()
    {
        var scale = infra.ContainerApp("silo")["properties"]!["template"]!["scale"]!;

        Assert.True(scale["minReplicas"]!.GetValue<int>() >= 2);
        Assert.True(scale["maxReplicas"]!.GetValue<int>() >= scale["minReplicas"]!.GetValue<int>());
        // Whatever a deployment passes: the parameters refuse fewer, in main.bicep and in the module.
        Assert.All(
            infra.ParameterDeclarations().Where(parameter => parameter.Name is "siloMinReplicas" || (parameter.Template == "silo-app" && parameter.Name == "minReplicas")),
            parameter => Assert.True(parameter.Declaration["minValue"]?.GetValue<int>() >= 2, $"{parameter.Template}: {parameter.Name}"));
    }

    [Fact]
    public void Silos_get_longer_to_stop_than_their_graceful_shutdown_takes()
    {
        var silo = infra.ContainerApp("silo");
        var grace = TimeSpan.FromSeconds(silo["properties"]!["template"]!["terminationGracePeriodSeconds"]!.GetValue<int>());

        // How long the silo's host lets it stop (Silo/SiloApplication.cs); past the grace period the platform kills it.
        var shutdown = new SiloMessagingOptions().ResponseTimeout + SiloApplication.SiloStopAllowance;
        Assert.True(grace >= shutdown + TimeSpan.FromSeconds(10), $"termination grace {grace} leaves too little room after the silo's {shutdown} stop");
    }

    /// <summary>
    /// Operations review: the API stops taking connections at SIGTERM while the ingress still routes
    /// to it for a few seconds; it serves on for a drain, and the grace period holds the drain, a
    /// request's longest wait on a grain and the client's stop.
    /// </summary>
    [Fact]
    public void The_api_drains_before_it_stops_and_gets_long_enough_to_stop()
    {
        var api = infra.ContainerApp("api");
        var drain = TimeSpan.Parse(Settings(api)["Api__ShutdownDrain"], System.Globalization.CultureInfo.InvariantCulture);
        var grace = TimeSpan.FromSeconds(api["properties"]!["template"]!["terminationGracePeriodSeconds"]!.GetValue<int>());

        Assert.InRange(drain, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        // The API's own stop deadline (Api/Operations/GracefulShutdown.cs), and room beyond it for the host's disposal (telemetry's last export).
        var stop = drain + new OrleansHostSettings().ClientResponseTimeout + Api.Operations.GracefulShutdown.ClientStopAllowance;
        Assert.True(grace >= stop + TimeSpan.FromSeconds(5), $"termination grace {grace} leaves too little room after the API's {stop} stop (a drain of {drain})");
    }

    /// <summary>
    /// Review finding: the API's startup probe gave up after 105 s, while its Orleans client waits
    /// for a gateway for 3 minutes (the silos of a first deployment start beside it): the platform
    /// restarted it mid-wait, into back-off.
    /// </summary>
    [Fact]
    public void The_api_gets_as_long_to_start_as_its_client_waits_for_a_gateway()
    {
        var startup = Probes(infra.ContainerApp("api"))["Startup"];
        var window = TimeSpan.FromSeconds(startup["initialDelaySeconds"]!.GetValue<int>()
            + (startup["periodSeconds"]!.GetValue<int>() * startup["failureThreshold"]!.GetValue<int>()));

        // The pauses, and each of the attempts between them at most as long as Orleans lets a connection take to open.
        var wait = ClientConnectionRetry.Budget + ((ClientConnectionRetry.MaxRetries + 1) * new ConnectionOptions().OpenConnectionTimeout);
        Assert.True(window >= wait, $"the startup probe gives up after {window}; the client waits up to {wait} for a gateway");
        Assert.InRange(startup["failureThreshold"]!.GetValue<int>(), 1, 10); // Container Apps' bounds
    }

    [Fact]
    public void Silo_and_gateway_ports_are_open_inside_the_environment_only_and_probed()
    {
        var silo = infra.ContainerApp("silo");
        var ingress = silo["properties"]!["configuration"]!["ingress"]!;
        var mappings = ingress["additionalPortMappings"]!.AsArray();

        Assert.Equal("tcp", ingress["transport"]?.GetValue<string>());
        Assert.False(ingress["external"]!.GetValue<bool>());
        Assert.All(mappings, mapping => Assert.False(mapping!["external"]!.GetValue<bool>()));
        Assert.Equal(
            [EndpointOptions.DEFAULT_SILO_PORT, EndpointOptions.DEFAULT_GATEWAY_PORT],
            mappings.Select(mapping => mapping!["targetPort"]!.GetValue<int>()).Prepend(ingress["targetPort"]!.GetValue<int>()));

        var settings = Settings(silo);
        Assert.Equal(EndpointOptions.DEFAULT_SILO_PORT.ToString(), settings["Orleans__SiloPort"]);
        Assert.Equal(EndpointOptions.DEFAULT_GATEWAY_PORT.ToString(), settings["Orleans__GatewayPort"]);

        // Started and ready once the silo is active: the probe port, not the ports Orleans binds before it joins.
        var probes = Probes(silo);
        var probePort = int.Parse(settings["Orleans__ProbePort"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.DoesNotContain(probePort, new[] { EndpointOptions.DEFAULT_SILO_PORT, EndpointOptions.DEFAULT_GATEWAY_PORT });
        Assert.Equal(["Liveness", "Readiness", "Startup"], probes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(probePort, probes["Startup"]["tcpSocket"]!["port"]!.GetValue<int>());
        Assert.Equal(probePort, probes["Readiness"]["tcpSocket"]!["port"]!.GetValue<int>());
        Assert.Equal(EndpointOptions.DEFAULT_SILO_PORT, probes["Liveness"]["tcpSocket"]!["port"]!.GetValue<int>());
    }

    [Fact]
    public void Api_is_public_over_https_only_and_scales_on_http_load()
    {
        var api = infra.ContainerApp("api");
        var ingress = api["properties"]!["configuration"]!["ingress"]!;
        var scale = api["properties"]!["template"]!["scale"]!;

        Assert.True(ingress["external"]!.GetValue<bool>());
        Assert.False(ingress["allowInsecure"]?.GetValue<bool>() ?? true);
        Assert.True(scale["minReplicas"]!.GetValue<int>() >= 1);
        Assert.True(scale["maxReplicas"]!.GetValue<int>() > scale["minReplicas"]!.GetValue<int>());
        var rule = Assert.Single(scale["rules"]!.AsArray());
        Assert.True(int.Parse(rule!["http"]!["metadata"]!["concurrentRequests"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void Api_probes_its_health_routes_on_its_ingress_port()
    {
        var api = infra.ContainerApp("api");
        var port = api["properties"]!["configuration"]!["ingress"]!["targetPort"]!.GetValue<int>();
        var probes = Probes(api);

        Assert.Equal(["Liveness", "Readiness", "Startup"], probes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("/health/live", probes["Startup"]["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/health/live", probes["Liveness"]["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/health/ready", probes["Readiness"]["httpGet"]!["path"]!.GetValue<string>());
        Assert.All(probes.Values, probe => Assert.Equal(port, probe["httpGet"]!["port"]!.GetValue<int>()));
    }

    [Fact]
    public void Both_apps_reach_storage_by_endpoint_uri_as_the_managed_identity_in_one_cluster()
    {
        var storage = Assert.Single(infra.OfType("Microsoft.Storage/storageAccounts"))["id"]!.GetValue<string>();
        var identity = Assert.Single(infra.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"))["id"]!.GetValue<string>();
        var insights = Assert.Single(infra.OfType("Microsoft.Insights/components"))["id"]!.GetValue<string>();
        var vault = Assert.Single(infra.OfType("Microsoft.KeyVault/vaults"))["id"]!.GetValue<string>();

        foreach (var app in new[] { infra.ContainerApp("silo"), infra.ContainerApp("api") })
        {
            var settings = Settings(app);
            Assert.Equal($"[reference('{storage}', '2023-05-01').primaryEndpoints.table]", settings["ConnectionStrings__Tables"]);
            Assert.Equal($"[reference('{storage}', '2023-05-01').primaryEndpoints.queue]", settings["ConnectionStrings__Queues"]);
            Assert.Equal($"[reference('{identity}', '2023-01-31').clientId]", settings["AZURE_CLIENT_ID"]);
            Assert.Equal("AzureTable", settings["Orleans__Clustering"]);
            Assert.Equal("orderflow", settings["Orleans__ClusterId"]);
            Assert.Equal("orderflow", settings["Orleans__ServiceId"]);
            Assert.Equal("AzureQueue", settings["Streams__Provider"]);
            Assert.Equal($"[reference('{insights}', '2020-02-02').ConnectionString]", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
            // Unset on purpose: each replica advertises its own address (README "Operate it in Azure").
            Assert.DoesNotContain("Orleans__AdvertisedAddress", settings.Keys);

            // The identity whose client id the settings carry is the one the app runs as, and pulls its image with.
            Assert.Equal("UserAssigned", app["identity"]!["type"]!.GetValue<string>());
            Assert.Equal([identity], app["identity"]!["userAssignedIdentities"]!.AsObject().Select(entry => entry.Key));
            Assert.Equal(identity, Assert.Single(app["properties"]!["configuration"]!["registries"]!.AsArray())!["identity"]!.GetValue<string>());
        }

        // Subject keys wrapped under the key-encryption key in the vault (README "Personal data"):
        // the silos unwrap them; the API, a client of the cluster, is not told the KEK.
        var silo = Settings(infra.ContainerApp("silo"));
        Assert.Equal($"[reference('{vault}', '2023-07-01').vaultUri]", silo["PersonalData__KeyEncryptionKey__VaultUri"]);
        Assert.Equal("personal-data-kek", silo["PersonalData__KeyEncryptionKey__SecretName"]);
        Assert.DoesNotContain(Settings(infra.ContainerApp("api")).Keys, key => key.StartsWith("PersonalData__KeyEncryptionKey", StringComparison.Ordinal));

        var api = Settings(infra.ContainerApp("api"));
        Assert.Equal("Client", api["Orleans__ApiHost"]);
        Assert.Equal(infra.Parameters["entraTenantId"], api["Authentication__Entra__TenantId"]);
        Assert.Equal(infra.Parameters["entraClientId"], api["Authentication__Entra__ClientId"]);
        Assert.DoesNotContain("Orleans__ApiHost", Settings(infra.ContainerApp("silo")).Keys);
    }

    [Fact]
    public void Each_app_runs_the_image_it_is_given()
    {
        Assert.Equal(infra.Parameters["siloImage"], CompiledInfra.Container(infra.ContainerApp("silo"))["image"]!.GetValue<string>());
        Assert.Equal(infra.Parameters["apiImage"], CompiledInfra.Container(infra.ContainerApp("api"))["image"]!.GetValue<string>());
    }

    /// <summary>The garbage collector's gen0 budget is read from the environment only: both images set the one the local scripts export.</summary>
    [Fact]
    public void Both_images_give_the_garbage_collector_the_gen0_budget_of_the_local_scripts()
    {
        var local = Regex.Match(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "scripts", "lib.sh")), @"export DOTNET_GCgen0size=""\$\{DOTNET_GCgen0size:-(0x[0-9A-Fa-f]+)\}""");
        Assert.True(local.Success, "scripts/lib.sh exports no default DOTNET_GCgen0size");

        foreach (var image in new[] { "Api/Dockerfile", "Silo/Dockerfile" })
        {
            var set = Regex.Matches(File.ReadAllText(Path.Combine(RepositoryRoot.Path, image)), @"^ENV DOTNET_GCgen0size=(\S+)\s*$", RegexOptions.Multiline);
            Assert.Equal([local.Groups[1].Value], set.Select(match => match.Groups[1].Value));
        }
    }

    /// <summary>The container's environment variables with a plain value, by name.</summary>
    private static Dictionary<string, string> Settings(JsonObject app) =>
        CompiledInfra.Container(app)["env"]!.AsArray()
            .Where(setting => setting!["value"] is not null)
            .ToDictionary(setting => setting!["name"]!.GetValue<string>(), setting => setting!["value"]!.GetValue<string>());

    private static Dictionary<string, JsonObject> Probes(JsonObject app) =>
        CompiledInfra.Container(app)["probes"]!.AsArray()
            .Select(probe => probe!.AsObject())
            .ToDictionary(probe => probe["type"]!.GetValue<string>());
}
