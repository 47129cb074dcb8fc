using System.Globalization;
using System.Text.Json.Nodes;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Testing.Orders;

/// <summary>
/// The one way tests build order commands: as objects for the decider and the grain, and as the
/// request bodies and paths of API.md for the same commands (<see cref="Body"/>, <see cref="Path"/>).
/// Each test project passes its own sample values; what is not given is the same everywhere.
/// </summary>
public static class TestCommands
{
    public const string Currency = "EUR";

    public const string PaymentMethod = "card";

    public static PlaceOrder Place(
        string? orderId, string customerId, IReadOnlyList<OrderLineRequest> items, DateTimeOffset? at = null,
        string currency = Currency, ShippingAddressRequest? shippingAddress = null) =>
        new(orderId, customerId, currency, items, at, shippingAddress);

    /// <summary>An order of one line.</summary>
    public static PlaceOrder Place(string? orderId, string customerId, string sku, int quantity, decimal unitPrice, DateTimeOffset? at = null) =>
        Place(orderId, customerId, [new OrderLineRequest(sku, quantity, unitPrice)], at);

    public static PayOrder Pay(string paymentId, decimal amount, DateTimeOffset? at = null) => new(paymentId, amount, PaymentMethod, at);

    public static ShipOrder Ship(string carrier, string trackingNumber, DateTimeOffset? at = null) => new(carrier, trackingNumber, at);

    public static DeliverOrder Deliver(DateTimeOffset? at = null) => new(at);

    public static CancelOrder Cancel(string reason, DateTimeOffset? at = null) => new(reason, at);

    public static RefundOrder Refund(string refundId, decimal amount, string reason, DateTimeOffset? at = null) => new(refundId, amount, reason, at);

    /// <summary>A time as the API's examples write it: UTC, to the millisecond.</summary>
    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Where API.md sends <paramref name="command"/> for order <paramref name="orderId"/>.</summary>
    public static string Path(string orderId, OrderCommand command) => command switch
    {
        PlaceOrder => "/api/orders",
        PayOrder => $"/api/orders/{orderId}/payments",
        ShipOrder => $"/api/orders/{orderId}/shipment",
        DeliverOrder => $"/api/orders/{orderId}/delivery",
        CancelOrder => $"/api/orders/{orderId}/cancellation",
        RefundOrder => $"/api/orders/{orderId}/refunds",
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Not an order command of API.md."),
    };

    /// <summary>
    /// <paramref name="command"/>'s request body as API.md writes it (camelCase, the time as
    /// <see cref="Time"/>); a null field is left out, as a client that omits it would.
    /// </summary>
    public static JsonObject Body(OrderCommand command)
    {
        var body = command switch
        {
            PlaceOrder place => Fields(
                ("orderId", place.OrderId),
                ("customerId", place.CustomerId),
                ("currency", place.Currency),
                ("items", place.Items is null ? null : new JsonArray([.. place.Items.Select(Line)])),
                ("shippingAddress", place.ShippingAddress is null ? null : Body(place.ShippingAddress))),
            PayOrder pay => Fields(("paymentId", pay.PaymentId), ("amount", pay.Amount), ("method", pay.Method)),
            ShipOrder ship => Fields(("carrier", ship.Carrier), ("trackingNumber", ship.TrackingNumber)),
            DeliverOrder => new JsonObject(),
            CancelOrder cancel => Fields(("reason", cancel.Reason)),
            RefundOrder refund => Fields(("refundId", refund.RefundId), ("amount", refund.Amount), ("reason", refund.Reason)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Not an order command of API.md."),
        };
        if (command.OccurredAt is { } at)
        {
            body["occurredAt"] = Time(at);
        }

        return body;
    }

    private static JsonObject Line(OrderLineRequest line) =>
        Fields(("sku", line.Sku), ("quantity", line.Quantity), ("unitPrice", line.UnitPrice));

    /// <summary>A shipping address as a place-order body's shippingAddress; a null line is left out.</summary>
    public static JsonObject Body(ShippingAddressRequest address) => Fields(
        ("recipient", address.Recipient),
        ("line1", address.Line1),
        ("line2", address.Line2),
        ("city", address.City),
        ("postalCode", address.PostalCode),
        ("country", address.Country));

    private static JsonObject Fields(params (string Name, JsonNode? Value)[] fields)
    {
        var body = new JsonObject();
        foreach (var (name, value) in fields)
        {
            if (value is not null)
            {
                body[name] = value;
            }
        }

        return body;
    }
}
