using System.Text.Json.Nodes;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests.Bicep;

/// <summary>
/// infra/main.bicep built, linted, and evaluated once for the tests that read it. The evaluation
/// is Bicep's snapshot (<c>bicep snapshot</c>): the resources a deployment with
/// <see cref="Parameters"/> would create, modules expanded, with every value known before
/// deployment filled in (names, settings, ports); secure parameters stay references.
/// </summary>
public sealed class CompiledInfra : IAsyncLifetime
{
    public const string MainTemplate = "infra/main.bicep";

    /// <summary>Any subscription: the snapshot only needs one to compute resource ids.</summary>
    private const string SubscriptionId = "00000000-0000-0000-0000-000000000001";

    private readonly string folder = Path.Combine(Path.GetTempPath(), "orderflow-infra-" + Guid.NewGuid().ToString("N"));

    /// <summary>The deployment's parameters: each API key and the cluster certificate a fresh value, so that finding one in the output means it leaked.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["environmentName"] = "infra-tests",
        ["location"] = "westeurope",
        ["apiAdminKey"] = "admin-" + Guid.NewGuid().ToString("N"),
        ["apiWriterKey"] = "writer-" + Guid.NewGuid().ToString("N"),
        ["apiReaderKey"] = "reader-" + Guid.NewGuid().ToString("N"),
        ["orleansTlsCertificate"] = Convert.ToBase64String(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).ToArray()),
        ["siloImage"] = "registry.invalid/orderflow/silo:test",
        ["apiImage"] = "registry.invalid/orderflow/api:test",
        ["entraTenantId"] = "11111111-2222-3333-4444-555555555555",
        ["entraClientId"] = "66666666-7777-8888-9999-000000000000",
    };

    public BicepRun Build { get; private set; } = null!;

    public BicepRun Lint { get; private set; } = null!;

    public BicepRun Snapshot { get; private set; } = null!;

    /// <summary>The compiled ARM JSON of main.bicep, its modules as nested deployments.</summary>
    public JsonObject Compiled { get; private set; } = [];

    /// <summary>The snapshot's file as written.</summary>
    public string SnapshotText { get; private set; } = "";

    /// <summary>Every resource the deployment would create (the snapshot's predictedResources).</summary>
    public IReadOnlyList<JsonObject> Resources { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        var cancellation = TestContext.Current.CancellationToken;
        Build = await BicepCli.RunAsync(["build", MainTemplate, "--stdout"], cancellation);
        Lint = await BicepCli.RunAsync(["lint", MainTemplate], cancellation);
        if (Build.ExitCode == 0 && JsonNode.Parse(Build.Output) is JsonObject compiled)
        {
            Compiled = compiled;
        }

        (Snapshot, SnapshotText, Resources) = await EvaluateAsync(
            Parameters.ToDictionary(parameter => parameter.Key, parameter => $"'{parameter.Value}'"), cancellation);
    }

    /// <summary>
    /// Bicep's snapshot of a deployment with these parameters (each a Bicep expression: <c>'text'</c>,
    /// <c>false</c>): how the run ended, the snapshot's text and its predicted resources (none when it failed).
    /// </summary>
    public async Task<(BicepRun Run, string Text, IReadOnlyList<JsonObject> Resources)> EvaluateAsync(
        IReadOnlyDictionary<string, string> parameters, CancellationToken cancellation)
    {
        // A .bicepparam must name its template by a relative path; each evaluation has a folder of its own.
        var evaluation = Directory.CreateDirectory(Path.Combine(folder, Guid.NewGuid().ToString("N"))).FullName;
        var parametersFile = Path.Combine(evaluation, "deployment.bicepparam");
        var main = Path.GetRelativePath(evaluation, Path.Combine(RepositoryRoot.Path, MainTemplate));
        await File.WriteAllLinesAsync(
            parametersFile,
            parameters.Select(parameter => $"param {parameter.Key} = {parameter.Value}").Prepend($"using '{main}'"),
            cancellation);
        var run = await BicepCli.RunAsync(
            ["snapshot", parametersFile, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--location", Parameters["location"]],
            cancellation);
        var snapshotFile = Path.Combine(evaluation, "deployment.snapshot.json");
        if (run.ExitCode != 0 || !File.Exists(snapshotFile))
        {
            return (run, "", []);
        }

        var text = await File.ReadAllTextAsync(snapshotFile, cancellation);
        return (run, text, JsonNode.Parse(text)!["predictedResources"]!.AsArray().Select(resource => resource!.AsObject()).ToList());
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    public IEnumerable<JsonObject> OfType(string type) => OfType(Resources, type);

    public static IEnumerable<JsonObject> OfType(IEnumerable<JsonObject> resources, string type) =>
        resources.Where(resource => resource["type"]?.GetValue<string>() == type);

    /// <summary>The one container app running a container of this name.</summary>
    public JsonObject ContainerApp(string containerName) => ContainerApp(Resources, containerName);

    public static JsonObject ContainerApp(IEnumerable<JsonObject> resources, string containerName) =>
        OfType(resources, "Microsoft.App/containerApps").Single(app => Container(app)["name"]?.GetValue<string>() == containerName);

    public static JsonObject Container(JsonObject app) => app["properties"]!["template"]!["containers"]![0]!.AsObject();

    /// <summary>The parameters main.bicep and each module declare, by template ("main" or the module's deployment name).</summary>
    public IEnumerable<(string Template, string Name, JsonObject Declaration)> ParameterDeclarations()
    {
        var templates = new List<(string, JsonObject)> { ("main", Compiled) };
        templates.AddRange(Compiled["resources"]!.AsArray()
            .Where(resource => resource!["type"]?.GetValue<string>() == "Microsoft.Resources/deployments")
            .Select(module => (module!["name"]!.GetValue<string>(), module["properties"]!["template"]!.AsObject())));
        return templates.SelectMany(template => (template.Item2["parameters"] as JsonObject ?? [])
            .Select(parameter => (template.Item1, parameter.Key, parameter.Value!.AsObject())));
    }
}
