using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OrderFlow.Infra.Tests.Bicep;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests;

/// <summary>
/// What a deployment of infra/main.bicep does about access (issue 11, "Azure hosting"): storage
/// without shared keys, the identity's roles exactly the data roles on the account and AcrPull on
/// the registry, no secret in plain text.
/// </summary>
public sealed partial class SecurityFactsTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    [Fact]
    public void Storage_account_takes_no_shared_key_no_tls_below_1_2_and_no_public_blob_access()
    {
        var storage = Assert.Single(infra.OfType("Microsoft.Storage/storageAccounts"));
        var properties = storage["properties"]!;

        Assert.False(properties["allowSharedKeyAccess"]?.GetValue<bool>() ?? true);
        Assert.Equal("TLS1_2", properties["minimumTlsVersion"]?.GetValue<string>());
        Assert.False(properties["allowBlobPublicAccess"]?.GetValue<bool>() ?? true);
        Assert.True(properties["supportsHttpsTrafficOnly"]?.GetValue<bool>());
    }

    [Fact]
    public void Role_assignments_are_exactly_the_two_data_roles_on_the_storage_account_and_acr_pull_on_the_registry()
    {
        var storage = Id(Assert.Single(infra.OfType("Microsoft.Storage/storageAccounts")));
        var registry = Id(Assert.Single(infra.OfType("Microsoft.ContainerRegistry/registries")));
        var identity = Id(Assert.Single(infra.OfType("Microsoft.ManagedIdentity/userAssignedIdentities")));

        var assignments = infra.OfType("Microsoft.Authorization/roleAssignments")
            .Select(assignment => (
                Role: assignment["properties"]!["roleDefinitionId"]!.GetValue<string>().Split('/')[^1],
                // An extension resource's id is the id of the resource it is scoped to, then its own part.
                Scope: ScopeOf(assignment["id"]!.GetValue<string>()),
                Principal: assignment["properties"]!["principalId"]!.GetValue<string>()))
            .OrderBy(assignment => assignment.Role, StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            [(StorageTableDataContributor, storage), (AcrPull, registry), (StorageQueueDataContributor, storage)],
            assignments.Select(assignment => (assignment.Role, assignment.Scope)));
        Assert.All(assignments, assignment => Assert.Contains($"'{identity}'", assignment.Principal, StringComparison.Ordinal));
    }

    [Fact]
    public void Api_keys_are_container_app_secrets_from_secure_parameters()
    {
        var api = infra.ContainerApp("api");
        var secrets = api["properties"]!["configuration"]!["secrets"]!.AsArray()
            .Where(secret => secret!["name"]!.GetValue<string>().StartsWith("api-key-", StringComparison.Ordinal)).ToList();
        var env = CompiledInfra.Container(api)["env"]!.AsArray();

        Assert.Equal(3, secrets.Count);
        foreach (var secret in secrets)
        {
            // The key of the secret's role, once main.bicep has checked the three keys' lengths:
            // [if(<a key too short>, fail(...), createObject('admin', parameters('apiAdminKey'), ...)).admin]
            var value = secret!["value"]!.GetValue<string>();
            var role = secret["name"]!.GetValue<string>()["api-key-".Length..];
            Assert.EndsWith($").{role}]", value, StringComparison.Ordinal);
            var parameter = Regex.Match(value, $@"createObject\(.*'{role}', parameters\('([^']+)'\)");
            Assert.True(parameter.Success, $"secret '{secret["name"]}' is not taken from a parameter: {value}");
            Assert.Equal("securestring", MainParameter(parameter.Groups[1].Value)["type"]?.GetValue<string>());
            Assert.All(ParameterReference().Matches(value), reference =>
                Assert.Equal("securestring", MainParameter(reference.Groups[1].Value)["type"]?.GetValue<string>()));
        }

        var keySettings = env.Where(setting => setting!["name"]!.GetValue<string>().EndsWith("__Key", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, keySettings.Count);
        Assert.All(keySettings, setting =>
        {
            Assert.Null(setting!["value"]);
            Assert.Contains(secrets, secret => secret!["name"]!.GetValue<string>() == setting["secretRef"]?.GetValue<string>());
        });
        Assert.Equal(["admin", "reader", "writer"], env.Where(setting => setting!["name"]!.GetValue<string>().EndsWith("__Role", StringComparison.Ordinal))
            .Select(setting => setting!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void No_key_given_to_the_deployment_appears_in_what_it_would_create()
    {
        var keys = infra.Parameters.Where(parameter => parameter.Key.EndsWith("Key", StringComparison.Ordinal)).Select(parameter => parameter.Value).ToList();

        Assert.Equal(3, keys.Count);
        Assert.NotEmpty(infra.SnapshotText);
        Assert.All(keys, key => Assert.DoesNotContain(key, infra.SnapshotText, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_parameter_named_like_a_secret_is_secure()
    {
        var secretLike = infra.ParameterDeclarations().Where(parameter => SecretName().IsMatch(parameter.Name)).ToList();

        Assert.NotEmpty(secretLike);
        Assert.All(secretLike, parameter => Assert.True(
            parameter.Declaration["type"]?.GetValue<string>() is "securestring" or "secureObject",
            $"{parameter.Template}: parameter '{parameter.Name}' is {parameter.Declaration["type"]}, not secure."));
    }

    [Fact]
    public void No_storage_key_or_connection_string_with_one_is_used_anywhere()
    {
        var texts = new[] { infra.Build.Output, infra.SnapshotText };

        Assert.All(texts, text =>
        {
            Assert.DoesNotContain("AccountKey=", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessSignature=", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listConnectionStrings(", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotMatch(StorageKeyCall(), text);
        });
        Assert.All(infra.OfType("Microsoft.App/containerApps").SelectMany(app => CompiledInfra.Container(app)["env"]!.AsArray()), setting =>
            Assert.DoesNotContain("AccountKey", setting!.ToJsonString(), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Parameters_file_gives_no_secure_parameter_a_value_of_its_own()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.parameters.json")))!["parameters"]!.AsObject();
        var secure = infra.ParameterDeclarations()
            .Where(parameter => parameter.Template == "main" && parameter.Declaration["type"]?.GetValue<string>() is "securestring" or "secureObject")
            .Select(parameter => parameter.Name)
            .ToList();

        Assert.NotEmpty(secure);
        foreach (var name in secure)
        {
            // azd fills ${VARIABLE} from its environment (azd env set); a literal would be a secret in the repository.
            var value = parameters[name]?["value"]?.GetValue<string>();
            Assert.True(value is null || EnvironmentReference().IsMatch(value), $"main.parameters.json gives '{name}' the value '{value}'.");
        }
    }

    private JsonObject MainParameter(string name) =>
        infra.ParameterDeclarations().Single(parameter => parameter.Template == "main" && parameter.Name == name).Declaration;

    private static string Id(JsonObject resource) => resource["id"]!.GetValue<string>();

    /// <summary>The resource a role assignment is scoped to: its id with the assignment's part removed (evaluated, or still an extensionResourceId expression).</summary>
    private static string ScopeOf(string extensionResourceId) =>
        ExtensionResourceScope().Match(extensionResourceId) is { Success: true } match
            ? match.Groups["evaluated"].Success ? match.Groups["evaluated"].Value : match.Groups["expression"].Value
            : throw new InvalidOperationException($"not an extension resource id: {extensionResourceId}");

    [GeneratedRegex(@"parameters\('([^']+)'\)")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"^(?:(?<evaluated>/subscriptions/[^\[\]']+)/providers/Microsoft\.Authorization/roleAssignments/[^/]+|\[extensionResourceId\('(?<expression>[^']+)', 'Microsoft\.Authorization/roleAssignments'.*)$")]
    private static partial Regex ExtensionResourceScope();

    [GeneratedRegex("(?i)(key|secret|password|token|certificate)$")]
    private static partial Regex SecretName();

    [GeneratedRegex(@"^\$\{[A-Z0-9_]+\}$")]
    private static partial Regex EnvironmentReference();

    /// <summary>listKeys on a storage account (the Log Analytics workspace's key for the environment's logs is not one).</summary>
    [GeneratedRegex(@"listKeys\([^)]*Microsoft\.Storage", RegexOptions.IgnoreCase)]
    private static partial Regex StorageKeyCall();
}
