using OrderFlow.Cluster.Tests.Infrastructure;

namespace OrderFlow.Cluster.Tests;

/// <summary>run.sh refuses a silo count or number it cannot use, before it starts anything, and says why.</summary>
public sealed class RunShArgumentsTests
{
    [Theory]
    [InlineData("--silos", "0")]
    [InlineData("--silos", "1")]
    [InlineData("--silos", "08")]
    [InlineData("--silos", "three")]
    [InlineData("--silos=", null)]
    public async Task A_silo_count_below_two_or_not_a_decimal_number_is_refused(string argument, string? value)
    {
        var result = await LocalCluster.RunScriptToEndAsync(value is null ? [argument] : [argument, value, "--no-build"], NoCluster());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--silos takes a number of silos, 2 or more", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("08")]
    [InlineData("-1")]
    public async Task A_silo_number_that_is_not_one_two_or_more_is_refused(string value)
    {
        var result = await LocalCluster.RunScriptToEndAsync(["--add-silo", value, "--no-build"], NoCluster());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--add-silo takes the number K of one silo", result.Output, StringComparison.Ordinal);
    }

    /// <summary>A data folder of its own, so a refusal that came too late could not touch a running cluster's files.</summary>
    private static Dictionary<string, string> NoCluster() =>
        new() { ["DATA_DIR"] = Path.Combine(Path.GetTempPath(), "orderflow-run-arguments-" + Guid.NewGuid().ToString("N")) };
}
