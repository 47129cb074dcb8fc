using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.PersonalData;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// README "Personal data": an order as the build before key ids stored it (<c>Fixtures/order-log-pd1.json</c>,
/// its events, snapshot and idempotency record with <c>pd1</c> values and the unkeyed request hash;
/// <c>Fixtures/keys-pd1.json</c>, its customer's one key row <c>key</c>; captured from that build's
/// grain on Azurite) reads with that row, answers its retry, gets new personal data sealed under a
/// key of its own beside the old row, and is erased whole.
/// </summary>
public sealed class BeforeKeyIdsTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private const string OrderId = "order-pd1-fixture";
    private const string CustomerId = "customer-pd1-fixture";
    private static readonly DateTimeOffset PlacedAt = new(2026, 11, 20, 9, 30, 0, 123, TimeSpan.Zero);
    private static readonly ShippingAddressRequest Address = new("Paula Eins", "Altweg 1", "Hinterhaus", "Altstadt", "AS-101", "DE");

    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task Values_sealed_before_key_ids_read_answer_their_retry_live_beside_new_keys_and_are_erased()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = cluster.Service.GetTableClient(new PersonalDataOptions().KeysTableNameFor(cluster.TableName));
        await TableFixtures.LoadAsync(cluster.Table, "order-log-pd1.json", ct);
        await TableFixtures.LoadAsync(keys, "keys-pd1.json", ct);
        var grain = cluster.Grain(OrderId);
        var address = PersonalDataTests.Stored(Address);

        Assert.Equal(address, (await grain.Get())!.ShippingAddress); // the snapshot's pd1 value
        Assert.Equal(address, (await grain.GetAtVersion(1))!.ShippingAddress); // the event's
        Assert.Contains("Altweg 1", (await grain.GetEvents(1, 10))!.Events[0].Data, StringComparison.Ordinal);

        // The placement's idempotency record (the unkeyed hash of that build) still answers its retry.
        var retry = await grain.Execute(new PlaceOrder(OrderId, CustomerId, "EUR", Items, PlacedAt, Address), new CommandMetadata(IdempotencyKey: "place-pd1-fixture"));
        Assert.True(retry.Replayed);
        Assert.Equal(address, retry.Order!.ShippingAddress);

        // New personal data of the subject is sealed under a key with an id, beside the old row.
        var newId = NewOrderId();
        await cluster.Grain(newId).Succeeds(new PlaceOrder(newId, CustomerId, "EUR", Items, null, Address));
        var keyRows = await KeyRowsAsync(keys, ct);
        Assert.Equal(2, keyRows.Count);
        Assert.Contains(keyRows, row => row.RowKey == "key" && row.GetBinary("Key") is { Length: SubjectKeyStore.KeyBytes });
        Assert.Contains("\"shippingAddress\":\"" + ProtectedField.Prefix, (await cluster.EventsAsync(newId, ct))[0].Data, StringComparison.Ordinal);
        await cluster.DeactivateAsync(OrderId);
        Assert.Equal(address, (await grain.Get())!.ShippingAddress);
        Assert.Equal(address, (await cluster.Grain(newId).Get())!.ShippingAddress);

        // The erasure shreds both keys; the old row becomes the tombstone.
        await cluster.Client.GetGrain<ISubjectKeyGrain>(CustomerId).Erase();
        var tombstone = Assert.Single(await KeyRowsAsync(keys, ct));
        Assert.Equal("key", tombstone.RowKey);
        Assert.Null(tombstone.GetBinary("Key"));
        Assert.NotNull(tombstone.GetDateTimeOffset("ErasedAt"));
        foreach (var orderId in new[] { OrderId, newId })
        {
            var erased = (await cluster.Grain(orderId).Get())!;
            Assert.Null(erased.ShippingAddress);
            Assert.True(erased.PersonalDataErased);
        }
    }

    private static async Task<List<TableEntity>> KeyRowsAsync(TableClient keys, CancellationToken ct)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(CustomerId)}"), cancellationToken: ct))
        {
            rows.Add(row);
        }

        return rows;
    }
}
