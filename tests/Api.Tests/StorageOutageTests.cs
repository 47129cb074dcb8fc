using System.Diagnostics;
using System.Net;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>API.md: "A 5xx answer is a bug, except 503 with Retry-After while storage is unreachable. A request that fails writes nothing."</summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task While_storage_is_down_commands_are_503_with_Retry_After_and_ready_is_503_while_live_stays_200()
    {
        var dataFolder = Path.Combine(Path.GetTempPath(), "api-tests-outage-" + Guid.NewGuid().ToString("N"));
        var storage = await Azurite.StartNewAsync(dataFolder, TestContext.Current.CancellationToken);
        try
        {
            await using var host = await ApiHost.StartAsync(storage.ConnectionString);

            // Ready first: its key-table check creates that table, before the order, so that the
            // save of Azurite's that holds the order holds the key table too (a save between the
            // order and the table's creation made the restarted Azurite lack it: a CI run failed so).
            await host.WaitUntilReadyAsync();
            var id = TestOrders.NewId();
            await host.PlaceAsync(id);

            await storage.WaitUntilSavedAsync(id, TestContext.Current.CancellationToken);
            await storage.StopAsync();

            var clock = Stopwatch.StartNew();
            using (var pay = await host.Writer.PostAsync($"/api/orders/{id}/payments", TestOrders.PayBody().ToJsonString(),
                configure: request => request.Headers.Add("X-Correlation-Id", "corr-outage")))
            {
                var problem = await pay.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/storage-unavailable");
                Assert.Contains("nothing was written", problem.Str("detail"), StringComparison.Ordinal);
                AssertRetryAfter(pay);
                Assert.Equal("corr-outage", pay.Header("X-Correlation-Id")); // the exception handler's answer too
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"The 503 took {clock.Elapsed}: storage failures must be answered quickly.");

            using (var place = await host.Writer.PostAsync("/api/orders", TestOrders.PlaceBody(TestOrders.NewId()).ToJsonString()))
            {
                await place.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                AssertRetryAfter(place);
            }

            using (var ready = await host.Anonymous.GetAsync("/health/ready"))
            {
                var health = await ready.BodyAsync();
                Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"/health/ready during the outage: {(int)ready.StatusCode} {health}");
                Assert.Contains("Unhealthy", health, StringComparison.Ordinal);
            }

            using (var live = await host.Anonymous.GetAsync("/health/live"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            // Storage comes back: the refused payment wrote nothing, and retrying it works.
            await storage.StartAsync(TestContext.Current.CancellationToken);
            await host.WaitUntilReadyAsync();
            await host.AssertNothingWrittenAsync(id, 1);
            var paid = await host.PayAsync(id);
            Assert.Equal("paid", paid.Str("status"));
            Assert.Equal(2, paid.Int("version"));
        }
        finally
        {
            await storage.DisposeAsync();
            try
            {
                Directory.Delete(dataFolder, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    /// <summary>
    /// Storage that hangs (accepts connections, never answers): a command is answered 503 within the
    /// event log's operation timeout, and a retry with the same Idempotency-Key after storage answers
    /// again is applied at most once. With a key, the command's first request is still its append
    /// (its insert of the key's record is what finds a key already used), so the hang strikes a write
    /// that may land, and the 503 says so. Before 2026-12-02 a read of the record came first.
    /// </summary>
    [Fact]
    public async Task While_storage_hangs_a_keyed_command_is_503_within_the_timeout_and_its_retry_is_applied_once()
    {
        await using var storage = await Azurite.StartNewAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var host = await StartWithShortTimeoutAsync(storage);
        var key = "idem-" + Guid.NewGuid().ToString("N");
        var pay = TestOrders.PayBody().ToJsonString();

        // The placement announces the order in the change index's current bucket, so the payment's
        // first storage request is its append.
        var (id, answer, elapsed, ready, live) = await SameChangeBucket.RunAsync(async () =>
        {
            var orderId = TestOrders.NewId();
            await host.PlaceAsync(orderId);
            using (storage.Suspend())
            {
                var clock = Stopwatch.StartNew();
                var response = await host.Writer.PostAsync($"/api/orders/{orderId}/payments", pay, key);
                var took = clock.Elapsed;
                using var ready = await host.Anonymous.GetAsync("/health/ready");
                using var live = await host.Anonymous.GetAsync("/health/live");
                return (orderId, response, took, ready.StatusCode, live.StatusCode);
            }
        });

        using (answer)
        {
            var problem = await answer.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/outcome-unknown");
            Assert.Contains("same Idempotency-Key", problem.Str("detail"), StringComparison.Ordinal);
            AssertRetryAfter(answer);
        }

        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK), (ready, live));
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"The 503 took {elapsed} with a 2 s operation timeout.");
        await host.WaitUntilReadyAsync();
        using var retry = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay, key);
        var order = await retry.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("paid", order.Str("status"));
        Assert.Equal(2, order.Int("version"));
        await host.AssertNothingWrittenAsync(id, 2);
    }

    /// <summary>
    /// Storage hangs while a command's append is on its way: the append may still land, so the 503
    /// must not say that nothing was written. It is the outcome-unknown problem, which tells the
    /// client to retry with the same id; the retry is applied at most once.
    /// </summary>
    [Fact]
    public async Task A_command_whose_append_hangs_is_503_outcome_unknown_and_its_retry_is_applied_once()
    {
        await using var storage = await Azurite.StartNewAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var host = await StartWithShortTimeoutAsync(storage);

        // The placement announces the order in the change index's current bucket, so the payment's
        // first storage request is its append.
        var (id, pay, answer) = await SameChangeBucket.RunAsync(async () =>
        {
            var orderId = TestOrders.NewId();
            await host.PlaceAsync(orderId);
            var body = TestOrders.PayBody().ToJsonString(); // no Idempotency-Key: its paymentId makes the retry safe
            using (storage.Suspend())
            {
                return (orderId, body, await host.Writer.PostAsync($"/api/orders/{orderId}/payments", body));
            }
        });

        using (answer)
        {
            var problem = await answer.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/outcome-unknown");
            Assert.Contains("same Idempotency-Key", problem.Str("detail"), StringComparison.Ordinal);
            Assert.DoesNotContain("nothing was written", problem.Str("detail"), StringComparison.Ordinal);
            AssertRetryAfter(answer);
        }

        await host.WaitUntilReadyAsync();
        using var retry = await host.Writer.PostAsync($"/api/orders/{id}/payments", pay);
        var order = await retry.AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("paid", order.Str("status"));
        Assert.Equal(2, order.Int("version"));
        await host.AssertNothingWrittenAsync(id, 2);
    }

    private static Task<ApiHost> StartWithShortTimeoutAsync(Azurite storage) =>
        ApiHost.StartAsync(storage.ConnectionString, configure: builder =>
            Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(builder.Configuration,
                new Dictionary<string, string?> { ["EventStore:OperationTimeout"] = "00:00:02" }));

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter.Delta > TimeSpan.Zero || retryAfter.Date is not null, $"Retry-After: {retryAfter}");
    }
}
