using System.Text.Json.Nodes;
using OrderFlow.Infra.Tests.Bicep;

namespace OrderFlow.Infra.Tests;

/// <summary>
/// Who may call the deployed API is given by parameters (README "Deployment", "Identity"): the three
/// API keys, Entra ID tokens (tenant and client id, both or neither), or both; tokens only with
/// <c>apiKeysEnabled=false</c>. The template refuses what the API would refuse to start with, before
/// anything is created. Each test evaluates a deployment of its own (<c>bicep snapshot</c>).
/// </summary>
public sealed class ApiAccessParametersTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    private static readonly string[] KeyParameters = ["apiAdminKey", "apiWriterKey", "apiReaderKey"];
    private static readonly string[] EntraParameters = ["entraTenantId", "entraClientId"];

    [Fact]
    public async Task A_tokens_only_deployment_gives_the_API_no_key_and_the_Entra_ID_settings()
    {
        var parameters = Given(without: KeyParameters);
        parameters["apiKeysEnabled"] = "false";

        var (run, _, resources) = await infra.EvaluateAsync(parameters, TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        var api = CompiledInfra.ContainerApp(resources, "api");
        Assert.Empty(KeySecrets(api));
        var settings = Names(api);
        Assert.DoesNotContain(settings, name => name.StartsWith("Api__Keys__", StringComparison.Ordinal));
        Assert.Equal(infra.Parameters["entraTenantId"], Value(api, "Authentication__Entra__TenantId"));
        Assert.Equal(infra.Parameters["entraClientId"], Value(api, "Authentication__Entra__ClientId"));
    }

    [Fact]
    public async Task A_keys_only_deployment_gives_the_API_its_three_keys_and_no_Entra_ID_settings()
    {
        var (run, _, resources) = await infra.EvaluateAsync(Given(without: EntraParameters), TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        var api = CompiledInfra.ContainerApp(resources, "api");
        Assert.Equal(3, KeySecrets(api).Count);
        var settings = Names(api);
        Assert.Equal(3, settings.Count(name => name.StartsWith("Api__Keys__", StringComparison.Ordinal) && name.EndsWith("__Key", StringComparison.Ordinal)));
        Assert.DoesNotContain(settings, name => name.StartsWith("Authentication__Entra__", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("entraTenantId")]
    [InlineData("entraClientId")]
    public async Task The_Entra_tenant_and_client_id_go_together_or_the_deployment_fails(string missing)
    {
        var (run, _, resources) = await infra.EvaluateAsync(Given(without: [missing]), TestContext.Current.CancellationToken);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("entraTenantId and entraClientId go together", run.ToString(), StringComparison.Ordinal);
        Assert.Empty(resources);
    }

    [Fact]
    public async Task Keys_off_without_Entra_ID_fails_the_deployment()
    {
        var parameters = Given(without: [.. KeyParameters, .. EntraParameters]);
        parameters["apiKeysEnabled"] = "false";

        var (run, _, resources) = await infra.EvaluateAsync(parameters, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Entra ID tokens only", run.ToString(), StringComparison.Ordinal);
        Assert.Empty(resources);
    }

    /// <summary>
    /// Without <c>@minLength</c> (an empty key is allowed now, for tokens only), the keys the API gets
    /// go through the template's length check. The snapshot leaves secure values unevaluated, so this
    /// reads the compiled template: the check, and that each key the API gets comes out of it.
    /// </summary>
    [Fact]
    public void Every_key_the_API_gets_is_checked_to_have_16_characters_or_more()
    {
        var check = infra.Compiled["variables"]!["apiKeys"]!.GetValue<string>();
        Assert.Contains("filter(createArray(parameters('apiAdminKey'), parameters('apiWriterKey'), parameters('apiReaderKey')), lambda('key', less(length(lambdaVariables('key')), 16)))", check, StringComparison.Ordinal);
        Assert.Contains("fail(", check, StringComparison.Ordinal);

        var api = infra.Compiled["resources"]!.AsArray().Select(resource => resource!.AsObject())
            .Single(resource => resource["name"]?.GetValue<string>() == "api-app");
        var keys = api["properties"]!["parameters"]!.AsObject().Where(parameter => parameter.Key.EndsWith("Key", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, keys.Count);
        Assert.All(keys, key => Assert.StartsWith("[variables('apiKeys').", key.Value!["value"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    /// <summary>The API's secrets that hold keys (the Orleans TLS certificate is a secret too: ClusterTlsFactsTests).</summary>
    private static List<JsonNode?> KeySecrets(JsonObject api) =>
        [.. api["properties"]!["configuration"]!["secrets"]!.AsArray().Where(secret => secret!["name"]!.GetValue<string>().StartsWith("api-key-", StringComparison.Ordinal))];

    private Dictionary<string, string> Given(IReadOnlyCollection<string> without) =>
        infra.Parameters.Where(parameter => !without.Contains(parameter.Key)).ToDictionary(parameter => parameter.Key, parameter => $"'{parameter.Value}'");

    private static List<string> Names(JsonObject app) =>
        CompiledInfra.Container(app)["env"]!.AsArray().Select(setting => setting!["name"]!.GetValue<string>()).ToList();

    private static string? Value(JsonObject app, string name) =>
        CompiledInfra.Container(app)["env"]!.AsArray().Single(setting => setting!["name"]!.GetValue<string>() == name)!["value"]?.GetValue<string>();
}
