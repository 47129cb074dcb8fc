using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// README's curl examples (the walk-through, its statistics, the rebuild), run as written (bash and
/// curl) against the real host as <c>./run.sh</c> starts it (Development, no keys): every command
/// answers as README says, so a newcomer who copies the examples gets what the README promises.
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
        var blocks = BashBlocks(readme, "## A whole order lifecycle with curl");
        Assert.True(blocks.Count >= 3, "README's walk-through has fewer bash blocks than expected.");
        Assert.Contains("API=http://localhost:5000", blocks[0], StringComparison.Ordinal);
        var statistics = Assert.Single(blocks, block => block.Contains("/api/stats/", StringComparison.Ordinal));

        var lines = (await RunBashAsync(Script(host, blocks.Where(block => block != statistics)), ct)).Split('\n');

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

        // The statistics follow within about a second: ask until they answer what README says, within a generous bound.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var (exitCode, output) = await TryRunBashAsync(Script(host, [statistics]), ct);
            var gaps = exitCode == 0 ? StatisticsGaps(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) : [$"exit {exitCode}: {output}"];
            if (gaps.Count == 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "README's statistics examples do not answer what README says:\n" + string.Join("\n", gaps) + "\n" + output);
            await Task.Delay(500, ct);
        }

        // The rebuild example, after the walk-through as a reader would run it.
        var rebuild = Assert.Single(BashBlocks(readme, "### Rebuild"));
        var status = JsonNode.Parse((await RunBashAsync(Script(host, [rebuild]), ct)).Trim())!;
        Assert.Matches("^[A-Za-z0-9_.-]+$", (string)status["id"]!);
        Assert.Contains((string)status["state"]!, new[] { "running", "completed" });
        foreach (var member in new[] { "eventsProcessed", "startedAt", "completedAt", "generation", "error", "parked", "reason" })
        {
            Assert.True(status.AsObject().ContainsKey(member), $"The rebuild's status lacks {member}, which README names: {status}");
        }
    }

    /// <summary>What README's statistics block says each of its five answers holds, and what they hold instead.</summary>
    private static List<string> StatisticsGaps(string[] answers)
    {
        var gaps = new List<string>();
        if (answers.Length != 5)
        {
            return [$"{answers.Length} answers, not 5"];
        }

        void Expect(string what, object? expected, JsonNode? actual)
        {
            var shown = actual?.ToJsonString() ?? "null";
            if (shown != Convert.ToString(expected, CultureInfo.InvariantCulture))
            {
                gaps.Add($"{what}: README says {expected}, the API answers {shown}");
            }
        }

        var summary = JsonNode.Parse(answers[0])!;
        Expect("summary orders.placed", 2, summary["orders"]!["placed"]);
        Expect("summary orders.paid", 1, summary["orders"]!["paid"]);
        Expect("summary orders.shipped", 1, summary["orders"]!["shipped"]);
        Expect("summary orders.delivered", 1, summary["orders"]!["delivered"]);
        Expect("summary revenue", "119.79", summary["revenue"]);
        Expect("summary refunds", "19.99", summary["refunds"]);
        Expect("summary netRevenue", "99.80", summary["netRevenue"]);
        Expect("summary funnel.placedToPaid", "0.5", summary["funnel"]!["placedToPaid"]);

        // Issue 9: durations and ratios are exact decimals, without floating-point tails or trailing zeros.
        foreach (Match number in ExactNumber().Matches(answers[0]))
        {
            var (name, value) = (number.Groups[1].Value, number.Groups[2].Value);
            var places = value.Contains('.', StringComparison.Ordinal) ? value.Length - value.IndexOf('.', StringComparison.Ordinal) - 1 : 0;
            if (places > (name.StartsWith('p') ? 3 : 4) || value.Contains('.', StringComparison.Ordinal) && value.EndsWith('0') || value.Contains('e', StringComparison.OrdinalIgnoreCase))
            {
                gaps.Add($"summary {name} is {value}: not an exact decimal of its places");
            }
        }

        var nine = JsonNode.Parse(answers[1])!["buckets"]!.AsArray().FirstOrDefault(b => (string?)b!["start"] == "2026-11-25T09:00:00Z");
        Expect("timeseries bucket of 09:00 placed", 1, nine?["placed"]);

        var customer = JsonNode.Parse(answers[2])!;
        Expect("customer orders", 2, customer["orders"]);
        Expect("customer spend", "119.79", customer["spend"]);
        Expect("customer refundedAmount", "19.99", customer["refundedAmount"]);

        var products = JsonNode.Parse(answers[3])!["products"]!.AsArray();
        Expect("products[0].sku", "\"KB-101\"", products.ElementAtOrDefault(0)?["sku"]);
        Expect("products[0].quantity", 2, products.ElementAtOrDefault(0)?["quantity"]);
        Expect("products[0].revenue", "99.8", products.ElementAtOrDefault(0)?["revenue"]);
        Expect("products[1].sku", "\"MS-202\"", products.ElementAtOrDefault(1)?["sku"]);

        var stuck = JsonNode.Parse(answers[4])!["orders"]!.AsArray();
        if (stuck.Count != 1 || (string?)stuck[0]!["orderId"] == "order-1001")
        {
            gaps.Add($"stuck: README says the one order placed with the Idempotency-Key, the API answers {stuck.ToJsonString()}");
        }

        return gaps;
    }

    [Fact]
    public async Task The_customer_examples_run_as_written_and_answer_as_README_says()
    {
        var ct = TestContext.Current.CancellationToken;
        if (!OnPath("curl") || !OnPath("bash"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "curl or bash is missing under CI: .ci/run installs curl.");
            Assert.Skip("The customer examples need bash and curl (apt-get install curl).");
        }

        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, environment: "Development", withKeys: false);
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md"), ct);
        var blocks = BashBlocks(readme, "## Customers");
        Assert.NotEmpty(blocks);

        var lines = (await RunBashAsync(Script(host, blocks), ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(3, lines.Length);
        Assert.DoesNotContain(lines, line => line.Contains("/problems/", StringComparison.Ordinal));
        var (registered, changed, read) = (JsonNode.Parse(lines[0])!, JsonNode.Parse(lines[1])!, lines[2]);
        Assert.Equal(("customer-7", "Ada Lovelace", "GB", 1), ((string?)registered["customerId"], (string?)registered["name"], (string?)registered["country"], (int?)registered["version"]));
        Assert.Equal(("FR", 2), ((string?)changed["country"], (int?)changed["version"]));
        Assert.Equal(lines[1], read);
    }

    /// <summary>The bash blocks of README's section that starts with <paramref name="heading"/>.</summary>
    private static List<string> BashBlocks(string readme, string heading)
    {
        var section = readme[readme.IndexOf(heading, StringComparison.Ordinal)..];
        var ends = new[] { "\n## ", "\n### " }.Select(next => section.IndexOf(next, heading.Length, StringComparison.Ordinal)).Where(i => i >= 0).ToList();
        return BashBlock().Matches(ends.Count == 0 ? section : section[..ends.Min()]).Select(m => m.Groups[1].Value).ToList();
    }

    /// <summary>The blocks as a reader runs them against the host, one answer a line, any error answer failing the script.</summary>
    private static string Script(ApiHost host, IEnumerable<string> blocks) =>
        "API=" + host.BaseAddress.ToString().TrimEnd('/') + "\n"
        + string.Join("\n", blocks).Replace("API=http://localhost:5000", string.Empty, StringComparison.Ordinal)
            .Replace("curl -s", "curl -s --show-error --fail-with-body -w '\\n'", StringComparison.Ordinal);

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Any(folder => File.Exists(Path.Combine(folder, program)));

    private static async Task<string> RunBashAsync(string script, CancellationToken ct)
    {
        var (exitCode, output) = await TryRunBashAsync(script, ct);
        Assert.True(exitCode == 0, $"The README example failed (exit {exitCode}):\n{output}");
        return output;
    }

    /// <summary>Runs the script; its exit code, and its output (standard error first when it failed).</summary>
    private static async Task<(int ExitCode, string Output)> TryRunBashAsync(string script, CancellationToken ct)
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
        return bash.ExitCode == 0 ? (0, output) : (bash.ExitCode, await stderr + "\n" + output);
    }

    [GeneratedRegex("```bash\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    /// <summary>A latency percentile or funnel ratio of a summary, and the number as the API wrote it.</summary>
    [GeneratedRegex("\"(p50|p95|p99|placedToPaid|paidToShipped|shippedToDelivered)\":(-?[0-9][0-9.eE+-]*)")]
    private static partial Regex ExactNumber();
}
