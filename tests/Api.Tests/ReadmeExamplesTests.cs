using System.Diagnostics;
using System.Text.RegularExpressions;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// README's curl walk-through, run as written (bash and curl) against the real host as
/// <c>./run.sh</c> starts it (Development, no keys): every command answers as README says, so a
/// newcomer who copies the examples gets what the README promises.
/// </summary>
public sealed partial class ReadmeExamplesTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_curl_walk_through_runs_as_written_and_answers_as_README_says()
    {
        var ct = TestContext.Current.CancellationToken;
        if (!OnPath("curl") || !OnPath("bash"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "curl or bash is missing under CI: .ci/run installs curl.");
            Assert.Skip("The walk-through needs bash and curl (apt-get install curl).");
        }

        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, environment: "Development", withKeys: false);
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md"), ct);
        var section = readme[readme.IndexOf("## A whole order lifecycle with curl", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 10, StringComparison.Ordinal)];
        var blocks = BashBlock().Matches(section).Select(m => m.Groups[1].Value).ToList();
        Assert.True(blocks.Count >= 2, "README's walk-through has fewer bash blocks than expected.");
        Assert.Contains("API=http://localhost:5000", blocks[0], StringComparison.Ordinal);

        // One answer a line (curl prints a body without a line break), and any error answer fails the script.
        var script = "API=" + host.BaseAddress.ToString().TrimEnd('/') + "\n"
            + string.Join("\n", blocks).Replace("API=http://localhost:5000", string.Empty, StringComparison.Ordinal)
                .Replace("curl -s", "curl -s --show-error --fail-with-body -w '\\n'", StringComparison.Ordinal);
        var lines = (await RunBashAsync(script, ct)).Split('\n');

        Assert.DoesNotContain(lines, line => line.Contains("/problems/", StringComparison.Ordinal));
        var placed = lines.First(line => line.StartsWith("{\"orderId\":\"order-1001\"", StringComparison.Ordinal));
        Assert.Contains("\"status\":\"placed\"", placed, StringComparison.Ordinal);
        Assert.Contains("\"total\":119.79", placed, StringComparison.Ordinal);
        Assert.Contains("\"placedAt\":\"2026-11-25T09:00:00Z\"", placed, StringComparison.Ordinal);
        var paid = lines.First(line => line.Contains("\"status\":\"paid\"", StringComparison.Ordinal));

        // As of 10:00 on 2026-11-25 the order is what the placement answered; at version 2 what the payment answered.
        Assert.Equal(2, lines.Count(line => line == placed));
        Assert.Equal(2, lines.Count(line => line == paid));
        Assert.Contains(lines, line => line.Contains("\"status\":\"delivered\"", StringComparison.Ordinal) && line.Contains("\"refunded\":19.99", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("HTTP/1.1 201", StringComparison.Ordinal)); // the placement with an Idempotency-Key
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Any(folder => File.Exists(Path.Combine(folder, program)));

    private static async Task<string> RunBashAsync(string script, CancellationToken ct)
    {
        var start = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var bash = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var stdout = bash.StandardOutput.ReadToEndAsync(ct);
        var stderr = bash.StandardError.ReadToEndAsync(ct);
        await bash.WaitForExitAsync(ct);
        var output = await stdout;
        Assert.True(bash.ExitCode == 0, $"The walk-through failed (exit {bash.ExitCode}):\n{await stderr}\n{output}");
        return output;
    }

    [GeneratedRegex("```bash\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();
}
