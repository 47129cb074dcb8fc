using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OrderFlow.Infra.Tests.Bicep;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests;

/// <summary>
/// What a deployment of infra/main.bicep does about access (issue 11, "Azure hosting"): storage
/// without shared keys, the identity's roles exactly the data roles on the account, reading the
/// key vault's secrets and AcrPull on the registry, no secret in plain text; the key vault of the
/// key-encryption key (issue 13) never loses it and never gets it from the template.
/// </summary>
public sealed partial class SecurityFactsTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

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
    public void Role_assignments_are_exactly_the_two_data_roles_on_the_storage_account_secrets_user_on_the_vault_and_acr_pull_on_the_registry()
    {
        var storage = Id(Assert.Single(infra.OfType("Microsoft.Storage/storageAccounts")));
        var registry = Id(Assert.Single(infra.OfType("Microsoft.ContainerRegistry/registries")));
        var vault = Id(Assert.Single(infra.OfType("Microsoft.KeyVault/vaults")));
        var identity = Id(Assert.Single(infra.OfType("Microsoft.ManagedIdentity/userAssignedIdentities")));

        var assignments = RoleAssignments(infra.Resources);

        Assert.Equal(
            [(StorageTableDataContributor, storage), (KeyVaultSecretsUser, vault), (AcrPull, registry), (StorageQueueDataContributor, storage)],
            assignments.Select(assignment => (assignment.Role, assignment.Scope)));
        Assert.All(assignments, assignment => Assert.Contains($"'{identity}'", assignment.Principal, StringComparison.Ordinal));
    }

    [Fact]
    public void Key_vault_authorizes_by_role_and_keeps_what_is_deleted_with_purge_protection()
    {
        var properties = Assert.Single(infra.OfType("Microsoft.KeyVault/vaults"))["properties"]!;

        Assert.True(properties["enableRbacAuthorization"]?.GetValue<bool>());
        Assert.Null(properties["accessPolicies"]);
        Assert.True(properties["enableSoftDelete"]?.GetValue<bool>() ?? true);
        Assert.True(properties["enablePurgeProtection"]?.GetValue<bool>()); // the key-encryption key is never shredded
        Assert.True(properties["softDeleteRetentionInDays"]?.GetValue<int>() >= 90);
    }

    [Fact]
    public void The_key_encryption_key_is_created_by_the_postprovision_hook_never_by_the_template()
    {
        // No secret resource and no secret value: the template, its parameters and its outputs never hold the key.
        Assert.DoesNotContain(infra.Resources, resource => resource["type"]!.GetValue<string>().StartsWith("Microsoft.KeyVault/vaults/", StringComparison.OrdinalIgnoreCase));
        var outputs = infra.Compiled["outputs"]!.AsObject();
        Assert.Equal("[variables('keyEncryptionKeySecretName')]", outputs["PERSONAL_DATA_KEK_SECRET_NAME"]!["value"]!.GetValue<string>());
        Assert.NotNull(outputs["AZURE_KEY_VAULT_NAME"]);

        // azure.yaml runs the hook after provisioning; the hook reads those two outputs and makes the key itself.
        var azureYaml = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "azure.yaml"));
        var hook = PostprovisionHook().Match(azureYaml);
        Assert.True(hook.Success, "azure.yaml runs no postprovision hook.");
        var script = File.ReadAllText(Path.Combine(RepositoryRoot.Path, hook.Groups[1].Value));
        Assert.Contains("${AZURE_KEY_VAULT_NAME", script, StringComparison.Ordinal);
        Assert.Contains("${PERSONAL_DATA_KEK_SECRET_NAME", script, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_deploying_principal_may_manage_the_vaults_secrets_only_when_given()
    {
        var deployer = "99999999-8888-7777-6666-555555555555";
        var parameters = infra.Parameters.ToDictionary(parameter => parameter.Key, parameter => $"'{parameter.Value}'");
        parameters["deployerPrincipalId"] = $"'{deployer}'";

        var (run, _, resources) = await infra.EvaluateAsync(parameters, TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        var vault = Id(Assert.Single(CompiledInfra.OfType(resources, "Microsoft.KeyVault/vaults")));
        var deployers = RoleAssignments(resources).Where(assignment => assignment.Principal == deployer).ToList();
        Assert.Equal([(KeyVaultSecretsOfficer, vault)], deployers.Select(assignment => (assignment.Role, assignment.Scope)));
        Assert.DoesNotContain(RoleAssignments(infra.Resources), assignment => assignment.Role == KeyVaultSecretsOfficer); // not without the parameter
    }

    /// <summary>Each role assignment: its role's GUID, the id of the resource it is scoped to, its principal (a value or an expression), ordered by role.</summary>
    private static List<(string Role, string Scope, string Principal)> RoleAssignments(IEnumerable<JsonObject> resources) =>
        CompiledInfra.OfType(resources, "Microsoft.Authorization/roleAssignments")
            .Select(assignment => (
                Role: assignment["properties"]!["roleDefinitionId"]!.GetValue<string>().Split('/')[^1],
                // An extension resource's id is the id of the resource it is scoped to, then its own part.
                Scope: ScopeOf(assignment["id"]!.GetValue<string>()),
                Principal: assignment["properties"]!["principalId"]!.GetValue<string>()))
            .OrderBy(assignment => assignment.Role, StringComparer.Ordinal)
            .ToList();

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

    [GeneratedRegex(@"(?m)^hooks:\s*\n(?:[ \t]+.*\n)*?[ \t]+postprovision:\s*\n(?:[ \t]+.*\n)*?[ \t]+run:\s*\.?/?(\S+)")]
    private static partial Regex PostprovisionHook();

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
