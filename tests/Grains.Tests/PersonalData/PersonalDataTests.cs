using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using OrderFlow.PersonalData;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// README "Personal data": an order's shipping address is stored sealed with its customer's key,
/// shown in plain while the key exists, and read as erased by every read once it is deleted,
/// without a stored event being rewritten.
/// </summary>
public sealed class PersonalDataTests(OrderClusterFixture fixture, AzuriteFixture azurite) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    public static ShippingAddressRequest Address(string tag) =>
        new("Recipient " + tag, tag + " Sealed Street 1", "Floor " + tag, "City" + tag, "PC-" + tag[..6], "DE");

    public static ShippingAddress Stored(ShippingAddressRequest request) =>
        new(request.Recipient!, request.Line1!, request.Line2, request.City!, request.PostalCode!, request.Country!);

    private static string NewCustomerId() => "subject-" + Guid.NewGuid().ToString("N")[..12];

    private static PlaceOrder PlaceWith(string orderId, string customerId, ShippingAddressRequest address) =>
        new(orderId, customerId, "EUR", Items, null, address);

    [Fact]
    public async Task The_address_is_stored_sealed_in_events_and_snapshots_and_read_back_in_plain()
    {
        var ct = TestContext.Current.CancellationToken;
        var (orderId, customerId, tag) = (NewOrderId(), NewCustomerId(), Guid.NewGuid().ToString("N")[..10]);
        var address = Address(tag);
        var grain = cluster.Grain(orderId);

        // Three events reach the snapshot interval: the snapshot holds the address too.
        await grain.SucceedAll(PlaceWith(orderId, customerId, address), Pay(), Ship());

        var rows = await cluster.RowsAsync(orderId, ct);
        Assert.Contains(rows, row => row.RowKey == KeyEncoding.SnapshotRowKey(OrderCluster.SnapshotInterval));
        Assert.DoesNotContain(rows, row => row.Select(property => property.Value).OfType<string>().Any(value => value.Contains(tag, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(2, rows.Count(row => row.Select(property => property.Value).OfType<string>().Any(value => value.Contains("\"shippingAddress\":\"" + ProtectedField.Prefix, StringComparison.Ordinal))));

        Assert.Equal(Stored(address), (await grain.Get())!.ShippingAddress);
        await cluster.DeactivateAsync(orderId); // reads the snapshot next
        var reloaded = await grain.Get();
        Assert.Equal(Stored(address), reloaded!.ShippingAddress);
        Assert.False(reloaded.PersonalDataErased);
        Assert.Equal(Stored(address), (await grain.GetAtVersion(1))!.ShippingAddress);
        var placed = (await grain.GetEvents(1, 10))!.Events[0];
        Assert.Contains(tag + " Sealed Street 1", placed.Data, StringComparison.Ordinal);
        Assert.False(placed.PersonalDataErased);

        // Readers that do not show personal data (projections, rebuilds) read it as absent, with no key.
        var stored = await cluster.EventsAsync(orderId, ct);
        Assert.Null(Assert.IsType<OrderPlaced>(OrderEventSerializer.Deserialize(stored[0].Type, stored[0].SchemaVersion, stored[0].Data)).ShippingAddress);
    }

    [Fact]
    public async Task After_erasure_every_read_shows_the_address_as_erased_and_no_stored_event_changes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (orderId, customerId, tag) = (NewOrderId(), NewCustomerId(), Guid.NewGuid().ToString("N")[..10]);
        var grain = cluster.Grain(orderId);
        var placedAt = Ago(TimeSpan.FromHours(1));
        await grain.SucceedAll(new PlaceOrder(orderId, customerId, "EUR", Items, placedAt, Address(tag)), Pay());
        Assert.NotNull((await grain.Get())!.ShippingAddress); // the activation holds the address in memory
        var before = await cluster.RowsAsync(orderId, ct);

        await cluster.Client.GetGrain<ISubjectKeyGrain>(customerId).Erase();

        // The live activation, without reloading:
        var now = await grain.Get();
        Assert.Null(now!.ShippingAddress);
        Assert.True(now.PersonalDataErased);
        Assert.Equal(OrderStatus.Paid, now.Status);
        Assert.True((await grain.GetAtVersion(1))!.PersonalDataErased);
        Assert.Null((await grain.GetAsOf(placedAt))!.ShippingAddress);
        var placed = (await grain.GetEvents(1, 10))!.Events[0];
        Assert.True(placed.PersonalDataErased);
        Assert.Contains("\"shippingAddress\":null", placed.Data, StringComparison.Ordinal);
        Assert.DoesNotContain(ProtectedField.Prefix, placed.Data, StringComparison.Ordinal);

        // A command on the erased order still works; its snapshot (version 3) re-states the address as erased.
        var shipped = await grain.Succeeds(Ship());
        Assert.Null(shipped.ShippingAddress);
        Assert.True(shipped.PersonalDataErased);
        var after = await cluster.RowsAsync(orderId, ct);
        var snapshot = Assert.Single(after, row => row.RowKey == KeyEncoding.SnapshotRowKey(3));
        Assert.Contains("\"shippingAddress\":\"" + ProtectedField.Erased + "\"", ChunkedPayload.Read(snapshot), StringComparison.Ordinal);

        // Events are immutable: every row stored before the erasure is still there, unchanged.
        foreach (var row in before.Where(row => row.RowKey != TableEventStore.HeadRowKey))
        {
            var still = Assert.Single(after, other => other.RowKey == row.RowKey);
            Assert.Equal(row.ETag, still.ETag);
        }

        // A fresh activation reads through the snapshot, and the log without it, as erased.
        await cluster.DeactivateAsync(orderId);
        var reloaded = await grain.Get();
        Assert.Null(reloaded!.ShippingAddress);
        Assert.True(reloaded.PersonalDataErased);
        Assert.True((await grain.GetAtVersion(2))!.PersonalDataErased);

        // Erasure is idempotent.
        await cluster.Client.GetGrain<ISubjectKeyGrain>(customerId).Erase();
        Assert.True(await cluster.Client.GetGrain<ISubjectKeyGrain>(customerId).IsErased());
    }

    [Fact]
    public async Task An_erased_customer_gets_no_new_personal_data_stored_but_orders_without_it_go_on()
    {
        var ct = TestContext.Current.CancellationToken;
        var customerId = NewCustomerId();
        await cluster.Client.GetGrain<ISubjectKeyGrain>(customerId).Erase(); // a customer erased before any order named them

        var refusedId = NewOrderId();
        var refused = await cluster.Grain(refusedId).Execute(PlaceWith(refusedId, customerId, Address("refusedxyz")), CommandMetadata.None);
        Assert.Equal(CommandErrorCode.Unprocessable, refused.Error?.Code);
        Assert.Contains("erased", refused.Error!.Detail, StringComparison.Ordinal);
        Assert.Empty(await cluster.RowsAsync(refusedId, ct));

        var plainId = NewOrderId();
        var placed = await cluster.Grain(plainId).Succeeds(new PlaceOrder(plainId, customerId, "EUR", Items));
        Assert.Null(placed.ShippingAddress);
        Assert.False(placed.PersonalDataErased);
    }

    [Fact]
    public async Task A_key_lost_from_the_key_table_is_an_incident_not_an_erasure()
    {
        var ct = TestContext.Current.CancellationToken;
        var (orderId, customerId) = (NewOrderId(), NewCustomerId());
        await cluster.Grain(orderId).Succeeds(PlaceWith(orderId, customerId, Address(Guid.NewGuid().ToString("N")[..10])));

        // Lost by accident (a restore from a backup older than the key, a hand-made deletion): no tombstone.
        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(cluster.TableName));
        await foreach (var row in keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(customerId)}"), cancellationToken: ct))
        {
            await keys.DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: ct);
        }

        await cluster.DeactivateAsync(orderId);
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, ct); // the key's grain forgets it too

        var failure = await Assert.ThrowsAsync<PersonalDataKeyMissingException>(() => cluster.Grain(orderId).Get());
        Assert.Contains(customerId, failure.Message, StringComparison.Ordinal);
        Assert.False(await cluster.Client.GetGrain<ISubjectKeyGrain>(customerId).IsErased());
    }

    [Fact]
    public void A_sealed_field_opens_only_for_its_own_subject_field_and_key()
    {
        var subjectKey = new SubjectKey(Guid.CreateVersion7().ToString("N"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(SubjectKeyStore.KeyBytes));
        var key = subjectKey.Material;
        var sealedValue = ProtectedField.Seal(subjectKey, "customer-a", "shippingAddress", "{\"city\":\"Bonn\"}");

        Assert.Equal("{\"city\":\"Bonn\"}", ProtectedField.Open(key, sealedValue, "shippingAddress"));
        Assert.Throws<InvalidDataException>(() => ProtectedField.Open(key, sealedValue, "name"));
        Assert.Throws<InvalidDataException>(() => ProtectedField.Open(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), sealedValue, "shippingAddress"));
        var otherSubject = ProtectedField.Prefix + System.Buffers.Text.Base64Url.EncodeToString("customer-b"u8) + "." + subjectKey.Id + sealedValue[sealedValue.LastIndexOf('.')..];
        Assert.Throws<InvalidDataException>(() => ProtectedField.Open(key, otherSubject, "shippingAddress"));
        var otherKeyId = sealedValue.Replace(subjectKey.Id, Guid.CreateVersion7().ToString("N"), StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => ProtectedField.Open(key, otherKeyId, "shippingAddress")); // the key id is authenticated too
        Assert.NotEqual(sealedValue, ProtectedField.Seal(subjectKey, "customer-a", "shippingAddress", "{\"city\":\"Bonn\"}")); // a random nonce each time
    }

    [Theory]
    [InlineData("pd2.missing-parts")]
    [InlineData("pd2.!!notbase64!!.0123.AAAA")]
    [InlineData("pd1.too.many.parts")]
    public async Task A_damaged_sealed_value_fails_to_read_instead_of_reading_as_erased(string damaged)
    {
        // Damaged values are refused before any key is looked up: no grain is needed.
        var protector = new PersonalDataProtector(grains: null!);
        var json = System.Text.Json.JsonSerializer.Serialize(new { shippingAddress = damaged });

        await Assert.ThrowsAsync<InvalidDataException>(() => protector.RevealAsync(json, typeof(OrderPlaced), Grains.EventSourcing.StoredJson.Options));

        var erased = await protector.RevealAsync(System.Text.Json.JsonSerializer.Serialize(new { shippingAddress = ProtectedField.Erased }), typeof(OrderPlaced), Grains.EventSourcing.StoredJson.Options);
        Assert.True(erased.Erased); // the marker a snapshot writes after an erasure still reads as erased
    }
}
