using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Silo;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// Readiness while storage hangs: a load balancer or orchestrator probes with a short timeout (often
/// 1 s), so <c>/health/ready</c> must answer 503 promptly instead of waiting for storage. The key
/// table counts as storage too, also in an account of its own.
/// </summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task While_storage_hangs_ready_answers_503_promptly_and_live_200()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Suspends Azurite with SIGSTOP.");
        await using var storage = await Azurite.StartNewAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var host = await ApiHost.StartAsync(storage.ConnectionString);
        await host.WaitUntilReadyAsync();

        using (storage.Suspend())
        {
            var clock = Stopwatch.StartNew();
            using var ready = await host.Anonymous.GetAsync("/health/ready");
            var elapsed = clock.Elapsed;
            var body = await ready.BodyAsync();
            TestContext.Current.TestOutputHelper?.WriteLine($"/health/ready answered {(int)ready.StatusCode} in {elapsed.TotalMilliseconds:0} ms while storage hung.");

            Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"/health/ready while storage hangs: {(int)ready.StatusCode} {body}");
            Assert.Contains("Unhealthy", body, StringComparison.Ordinal);
            Assert.NotNull(ready.Headers.RetryAfter);
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"/health/ready took {elapsed} to answer while storage hung.");

            using var live = await host.Anonymous.GetAsync("/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        await host.WaitUntilReadyAsync();
    }

    [Fact]
    public async Task While_the_key_table_does_not_answer_ready_is_unhealthy_naming_the_key_store_and_live_200()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var storage = await Azurite.StartNewAsync(cancellationToken: ct);
        await using var keys = await Azurite.StartNewAsync(cancellationToken: ct);
        await using var host = await ApiHost.StartAsync(storage.ConnectionString, configure: builder => builder.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["ConnectionStrings:" + OrderFlowSiloExtensions.KeysConnectionName] = keys.ConnectionString }));
        await host.WaitUntilReadyAsync();

        await keys.StopAsync();

        using var ready = await host.Anonymous.GetAsync("/health/ready");
        var body = await ready.BodyAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"/health/ready without the key table: {(int)ready.StatusCode} {body}");
        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks");
        var keyStore = checks.GetProperty("key-store");
        Assert.Equal("Unhealthy", keyStore.GetProperty("status").GetString());
        Assert.Contains(new PersonalDataOptions().KeysTableNameFor(host.TableName), keyStore.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", checks.GetProperty("event-store").GetProperty("status").GetString());

        // Anonymous: the error's own text (its address, the storage client's message) stays in the log.
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        Assert.DoesNotContain(keys.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), body, StringComparison.Ordinal);

        using var live = await host.Anonymous.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
