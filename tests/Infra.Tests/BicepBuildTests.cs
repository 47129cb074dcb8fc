using OrderFlow.Infra.Tests.Bicep;
using OrderFlow.Testing;

namespace OrderFlow.Infra.Tests;

/// <summary>The templates compile and evaluate, and the linter (its default rules and infra/bicepconfig.json's) has nothing to say.</summary>
public sealed class BicepBuildTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    [Fact]
    public void Main_template_builds_without_a_warning()
    {
        Assert.True(infra.Build.ExitCode == 0, infra.Build.ToString());
        Assert.True(string.IsNullOrWhiteSpace(infra.Build.Errors), infra.Build.ToString());
        Assert.NotEmpty(infra.Compiled);
    }

    [Fact]
    public void Linter_reports_nothing()
    {
        Assert.True(infra.Lint.ExitCode == 0, infra.Lint.ToString());
        Assert.True(string.IsNullOrWhiteSpace(infra.Lint.Errors), infra.Lint.ToString());
        Assert.True(string.IsNullOrWhiteSpace(infra.Lint.Output), infra.Lint.ToString());
    }

    [Fact]
    public void Snapshot_of_a_deployment_evaluates_without_a_diagnostic()
    {
        Assert.True(infra.Snapshot.ExitCode == 0, infra.Snapshot.ToString());
        Assert.True(string.IsNullOrWhiteSpace(infra.Snapshot.Errors), infra.Snapshot.ToString());
        Assert.NotEmpty(infra.Resources);
    }

    [Fact]
    public void Every_module_is_deployed_by_the_main_template()
    {
        var modules = Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "infra", "modules"), "*.bicep")
            .Select(file => Path.GetFileNameWithoutExtension(file))
            .Order(StringComparer.Ordinal)
            .ToList();
        var deployed = infra.ParameterDeclarations().Select(parameter => parameter.Template).Where(name => name != "main").Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(modules);
        // Each module is deployed under its file's name, so a module no deployment uses (and no test reads) shows.
        Assert.Equal(modules, deployed);
    }
}
