using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>A host that snapshots every 2 events, so that queries and replays cross snapshots.</summary>
public sealed class SnapshotEveryTwoEventsFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private ApiHost? host;

    public AzuriteFixture Azurite => azurite;

    public ApiHost Host => host ?? throw new InvalidOperationException("The API host has not started.");

    public async ValueTask InitializeAsync() => host = await SnapshotQueryTests.StartAsync(azurite.ConnectionString, TableNames.Unique("events"));

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}

/// <summary>
/// The queries of API.md "Orders (queries)" on orders whose log holds snapshots (EventStore:SnapshotInterval = 2):
/// the answers must be the same as a fold over the events.
/// </summary>
public sealed class SnapshotQueryTests(SnapshotEveryTwoEventsFixture fixture) : IClassFixture<SnapshotEveryTwoEventsFixture>
{
    private readonly ApiHost host = fixture.Host;

    public static Task<ApiHost> StartAsync(string connectionString, string tableName) =>
        ApiHost.StartAsync(connectionString, configure: builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:TableName"] = tableName,
            ["EventStore:SnapshotInterval"] = "2",
        }));

    /// <summary>Seven events ten minutes apart from T0: placed, paid, shipped, delivered, three refunds of 1.00.</summary>
    private async Task<(string Id, DateTimeOffset T0, string FirstRefundKey, string FirstRefundBody, string FirstRefundAnswer)> OrderWithSevenEventsAsync(ApiHost on)
    {
        var t0 = new DateTimeOffset(DateTime.UtcNow.AddHours(-3).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var id = TestOrders.NewId();
        await on.PlaceAsync(id, t0);
        await on.PayAsync(id, t0.AddMinutes(10));
        await on.ShipAsync(id, t0.AddMinutes(20));
        await on.DeliverAsync(id, t0.AddMinutes(30));
        var key = "idem-" + Guid.NewGuid().ToString("N");
        var body = TestOrders.RefundBody(1m, occurredAt: t0.AddMinutes(40)).ToJsonString();
        using var first = await on.Writer.PostAsync($"/api/orders/{id}/refunds", body, key);
        var answer = await first.BodyAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await on.RefundAsync(id, 1m, t0.AddMinutes(50));
        await on.RefundAsync(id, 1m, t0.AddMinutes(60));
        return (id, t0, key, body, answer);
    }

    private static async Task AssertHistoryAsync(ApiHost on, string id, DateTimeOffset t0)
    {
        string[] statuses = ["placed", "paid", "shipped", "delivered", "delivered", "delivered", "delivered"];
        decimal[] refunded = [0m, 0m, 0m, 0m, 1m, 2m, 3m];

        var now = await on.GetOrderAsync(id);
        Assert.Equal(7, now.Int("version"));
        Assert.Equal(3m, now.Dec("refunded"));
        Assert.Equal(t0, now.GetProperty("placedAt").GetDateTimeOffset());
        Assert.Equal(t0.AddMinutes(60), now.GetProperty("updatedAt").GetDateTimeOffset());

        for (var version = 1; version <= 7; version++)
        {
            var atVersion = await on.GetOrderAsync(id, $"?version={version}");
            Assert.Equal(version, atVersion.Int("version"));
            Assert.Equal(statuses[version - 1], atVersion.Str("status"));
            Assert.Equal(refunded[version - 1], atVersion.Dec("refunded"));
            Assert.Equal(t0.AddMinutes(10 * (version - 1)), atVersion.GetProperty("updatedAt").GetDateTimeOffset());

            // Exactly at the event, and halfway to the next one.
            foreach (var offset in new[] { TimeSpan.Zero, TimeSpan.FromMinutes(5) })
            {
                var asOf = await on.GetOrderAsync(id, "?asOf=" + Uri.EscapeDataString(TestOrders.Time(t0.AddMinutes(10 * (version - 1)) + offset)));
                Assert.True(version == asOf.Int("version"), $"asOf event {version} + {offset}: {asOf}");
                Assert.Equal(statuses[version - 1], asOf.Str("status"));
                Assert.Equal(refunded[version - 1], asOf.Dec("refunded"));
            }
        }

        using var before = await on.Reader.GetAsync($"/api/orders/{id}?asOf={Uri.EscapeDataString(TestOrders.Time(t0.AddSeconds(-1)))}");
        await before.AssertProblemAsync(HttpStatusCode.NotFound);
        using var beyond = await on.Reader.GetAsync($"/api/orders/{id}?version=8");
        await beyond.AssertProblemAsync(HttpStatusCode.NotFound);

        var versions = new List<int>();
        string? next = $"/api/orders/{id}/events?limit=3";
        while (next is not null)
        {
            using var response = await on.Reader.GetAsync(next);
            var page = await response.AssertJsonAsync(HttpStatusCode.OK);
            versions.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.Int("version")));
            next = page.TryGetProperty("next", out var link) && link.ValueKind == JsonValueKind.String ? link.GetString() : null;
            Assert.True(versions.Count <= 7);
        }

        Assert.Equal([1, 2, 3, 4, 5, 6, 7], versions);
    }

    [Fact]
    public async Task Queries_across_snapshots_match_the_events()
    {
        var (id, t0, _, _, _) = await OrderWithSevenEventsAsync(host);

        await AssertHistoryAsync(host, id, t0);
    }

    [Fact]
    public async Task A_replay_of_a_command_before_the_latest_snapshot_returns_the_first_answer()
    {
        var (id, _, key, body, answer) = await OrderWithSevenEventsAsync(host);

        using var retry = await host.Writer.PostAsync($"/api/orders/{id}/refunds", body, key);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Header("Idempotent-Replayed"));
        Assert.Equal(answer, await retry.BodyAsync());
        await host.AssertNothingWrittenAsync(id, 7);
    }

    [Fact]
    public async Task Another_host_on_the_same_log_loads_the_order_from_its_snapshots()
    {
        var (id, t0, key, body, answer) = await OrderWithSevenEventsAsync(host);

        await using var other = await StartAsync(fixture.Azurite.ConnectionString, host.TableName);

        await AssertHistoryAsync(other, id, t0);

        using var retry = await other.Writer.PostAsync($"/api/orders/{id}/refunds", body, key);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Header("Idempotent-Replayed"));
        Assert.Equal(answer, await retry.BodyAsync());

        // A command on the reloaded order continues the log.
        var order = await other.RefundAsync(id, TestOrders.Total - 3m);
        Assert.Equal("refunded", order.Str("status"));
        Assert.Equal(8, order.Int("version"));
        await other.AssertNothingWrittenAsync(id, 8);
    }
}
