using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OrderFlow.Infra.Tests.Bicep;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests;

/// <summary>
/// README "Operate it in Azure", TLS: the silos and the API get the Orleans cluster certificate as
/// a Container Apps secret taken from a secure parameter, read as <c>Orleans:Tls:Certificate</c>,
/// and the certificate given to the deployment appears nowhere in what it would create.
/// </summary>
public sealed partial class ClusterTlsFactsTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    private const string SecretName = "orleans-tls-certificate";
    private const string Parameter = "orleansTlsCertificate";

    [Theory]
    [InlineData("silo")]
    [InlineData("api")]
    public void Each_app_reads_the_cluster_certificate_from_a_secret_taken_from_a_secure_parameter(string service)
    {
        var app = infra.ContainerApp(service);
        var secret = Assert.Single(app["properties"]!["configuration"]!["secrets"]!.AsArray(), s => s!["name"]!.GetValue<string>() == SecretName)!;
        var value = secret["value"]!.GetValue<string>();
        var setting = Assert.Single(CompiledInfra.Container(app)["env"]!.AsArray(), s => s!["name"]!.GetValue<string>() == "Orleans__Tls__Certificate")!;

        Assert.Contains($"parameters('{Parameter}')", value, StringComparison.Ordinal);
        Assert.All(ParameterReference().Matches(value), reference =>
            Assert.Equal("securestring", MainParameter(reference.Groups[1].Value)["type"]?.GetValue<string>()));
        Assert.Null(setting["value"]);
        Assert.Equal(SecretName, setting["secretRef"]?.GetValue<string>());
        Assert.DoesNotContain(CompiledInfra.Container(app)["env"]!.AsArray(), s => s!["name"]!.GetValue<string>().StartsWith("Orleans__Tls__CertificatePath", StringComparison.Ordinal));
    }

    [Fact]
    public void The_certificate_given_to_the_deployment_appears_nowhere_in_what_it_would_create()
    {
        var certificate = infra.Parameters[Parameter];

        Assert.NotEmpty(infra.SnapshotText);
        Assert.DoesNotContain(certificate, infra.SnapshotText, StringComparison.Ordinal);
        Assert.DoesNotContain(certificate, infra.Build.Output, StringComparison.Ordinal);
    }

    /// <summary>bicep snapshot leaves a secure value unevaluated, so this reads the compiled template: the check, and that both apps get what passed it.</summary>
    [Fact]
    public void The_deployment_stops_without_a_certificate()
    {
        var check = infra.Compiled["variables"]!["clusterCertificate"]!.GetValue<string>();
        Assert.Contains($"empty(parameters('{Parameter}'))", check, StringComparison.Ordinal);
        Assert.Contains($"fail('{Parameter} is required", check, StringComparison.Ordinal);

        foreach (var module in new[] { "silo-app", "api-app" })
        {
            var deployment = infra.Compiled["resources"]!.AsArray().Select(resource => resource!.AsObject())
                .Single(resource => resource["name"]?.GetValue<string>() == module);
            Assert.Equal("[variables('clusterCertificate')]", deployment["properties"]!["parameters"]!["tlsCertificate"]!["value"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Without_accepted_thumbprints_no_app_gets_any()
    {
        Assert.All(new[] { infra.ContainerApp("silo"), infra.ContainerApp("api") }, app => Assert.DoesNotContain(
            CompiledInfra.Container(app)["env"]!.AsArray(), s => s!["name"]!.GetValue<string>().StartsWith("Orleans__Tls__AcceptedThumbprints", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Accepted_thumbprints_reach_both_apps_for_a_rotation()
    {
        string[] thumbprints = [new string('A', 64), new string('B', 64)];
        var parameters = infra.Parameters.ToDictionary(parameter => parameter.Key, parameter => $"'{parameter.Value}'");
        parameters["orleansTlsAcceptedThumbprints"] = $"'{thumbprints[0]}, {thumbprints[1]}'";

        var (run, _, resources) = await infra.EvaluateAsync(parameters, TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var service in new[] { "silo", "api" })
        {
            var env = CompiledInfra.Container(CompiledInfra.ContainerApp(resources, service))["env"]!.AsArray();
            Assert.Equal(thumbprints[0], env.Single(s => s!["name"]!.GetValue<string>() == "Orleans__Tls__AcceptedThumbprints__0")!["value"]!.GetValue<string>());
            Assert.Equal(thumbprints[1], env.Single(s => s!["name"]!.GetValue<string>() == "Orleans__Tls__AcceptedThumbprints__1")!["value"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Azd_takes_the_certificate_from_its_environment()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.parameters.json")))!["parameters"]!.AsObject();

        Assert.Equal("${ORLEANS_TLS_CERTIFICATE}", parameters[Parameter]?["value"]?.GetValue<string>());
    }

    private JsonObject MainParameter(string name) =>
        infra.ParameterDeclarations().Single(parameter => parameter.Template == "main" && parameter.Name == name).Declaration;

    [GeneratedRegex(@"parameters\('([^']+)'\)")]
    private static partial Regex ParameterReference();
}
