using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// README "Personal data": an address stored in plain by the build before encryption
/// (<c>Fixtures/order-plain-address.json</c>: an OrderPlaced of schema version 2 and a payment, in
/// the columns and JSON that build wrote) stays plain in its row, but once its customer is erased
/// no read shows it: neither the order nor its events page.
/// </summary>
public sealed class PlainAddressErasureTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private const string OrderId = "order-plain-fixture";
    private const string CustomerId = "customer-plain-1";

    private static readonly ShippingAddress Address = new("Pauline Plaintext", "Clearway 7", null, "Openburg", "OB-7701", "DE");

    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task After_the_customers_erasure_the_events_page_shows_a_plain_address_as_erased()
    {
        var ct = TestContext.Current.CancellationToken;
        await TableFixtures.LoadAsync(cluster.Table, "order-plain-address.json", ct);
        var stored = await cluster.EventsAsync(OrderId, ct);

        // The fixture is the JSON that build wrote: the serializer's, with no sealing step.
        var placed = new OrderPlaced(
            new DateTimeOffset(2026, 11, 26, 9, 30, 0, TimeSpan.Zero), OrderId, CustomerId, "EUR", [new OrderLine("sku-a", 2, 10.50m)], 21.00m, Address);
        Assert.Equal(EventSerializer<OrderEvent>.Serialize(placed), stored[0].Data);
        Assert.Equal(2, stored[0].SchemaVersion);

        var grain = cluster.Grain(OrderId);
        Assert.Equal(Address, (await grain.Get())!.ShippingAddress);
        var before = (await grain.GetEvents(1, 10))!.Events;
        Assert.Contains("Clearway 7", before[0].Data, StringComparison.Ordinal);
        Assert.False(before[0].PersonalDataErased);

        // The customer never registered: the orders name them, and that is enough to erase them.
        var erasure = await cluster.Client.GetGrain<ICustomerGrain>(CustomerId).Execute(new ErasePersonalData("admin"), CommandMetadata.None);
        Assert.Null(erasure.Error);

        var page = (await grain.GetEvents(1, 10))!.Events;
        Assert.Equal([1, 2], page.Select(e => e.Version));
        Assert.True(page[0].PersonalDataErased);
        Assert.Contains("\"shippingAddress\":null", page[0].Data, StringComparison.Ordinal);
        Assert.False(page[1].PersonalDataErased); // the payment holds no personal data
        foreach (var part in new[] { Address.Recipient, Address.Line1, Address.City, Address.PostalCode })
        {
            Assert.All(page, e => Assert.DoesNotContain(part, e.Data, StringComparison.Ordinal));
        }

        var view = await grain.Get();
        Assert.Null(view!.ShippingAddress);
        Assert.True(view.PersonalDataErased);

        // A fresh activation reads the same; the row itself is as that build stored it (events are never rewritten).
        await cluster.DeactivateAsync(OrderId);
        Assert.True((await grain.GetEvents(1, 1))!.Events[0].PersonalDataErased);
        Assert.Equal(stored[0].Data, (await cluster.EventsAsync(OrderId, ct))[0].Data);
    }
}
