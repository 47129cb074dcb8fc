using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// README "Personal data", "A lost key is not an erasure": a subject's key row lost by accident is
/// replaced by a new key at their next write of personal data; the values the lost key sealed then
/// answer the 500 problem <c>personal-data-key-missing</c> (not a plain 500), and restoring the
/// lost row from backup sits beside the new key, so that old and new values both read.
/// </summary>
public sealed class LostKeyRowTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Values_of_a_lost_key_are_key_missing_after_a_new_key_and_read_again_once_the_row_is_restored_beside_it()
    {
        var ct = TestContext.Current.CancellationToken;
        // Keys read at every use: the lost row is noticed at once, as it is after the cache's minute.
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["PersonalData:KeyCacheDuration"] = "00:00:00" }));
        var customerId = "lost-key-" + Guid.NewGuid().ToString("N")[..10];
        var (oldOrder, newOrder) = (TestOrders.NewId(), TestOrders.NewId());
        await PlaceWithAddressAsync(host, oldOrder, customerId);

        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(host.TableName));
        var lost = new List<TableEntity>();
        await foreach (var row in keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(customerId)}"), cancellationToken: ct))
        {
            lost.Add(row);
        }

        Assert.NotEmpty(lost);
        foreach (var row in lost)
        {
            await keys.DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: ct);
        }

        await PlaceWithAddressAsync(host, newOrder, customerId); // a new key for the subject

        using (var events = await host.Reader.GetAsync($"/api/orders/{oldOrder}/events"))
        {
            await events.AssertProblemAsync(HttpStatusCode.InternalServerError, "/problems/personal-data-key-missing");
        }

        Assert.Contains(host.Log.GetSnapshot(), entry => entry.Level == Microsoft.Extensions.Logging.LogLevel.Critical && entry.Message.Contains("key missing", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("Ada Lovelace", (await host.GetOrderAsync(newOrder)).GetProperty("shippingAddress").GetProperty("recipient").GetString());

        foreach (var row in lost)
        {
            await keys.AddEntityAsync(row, ct); // restored from backup: no conflict with the new key
        }

        var restored = await host.GetAllEventsAsync(oldOrder);
        Assert.Equal("Ada Lovelace", restored[0].GetProperty("data").GetProperty("shippingAddress").GetProperty("recipient").GetString());
        Assert.Equal("Ada Lovelace", (await host.GetOrderAsync(newOrder)).GetProperty("shippingAddress").GetProperty("recipient").GetString());
    }

    private static async Task PlaceWithAddressAsync(ApiHost host, string orderId, string customerId)
    {
        var body = TestOrders.PlaceBody(orderId);
        body["customerId"] = customerId;
        body["shippingAddress"] = TestOrders.ShippingAddress();
        using var response = await host.Writer.PostAsync("/api/orders", body.ToJsonString());
        await response.AssertJsonAsync(HttpStatusCode.Created);
    }
}
