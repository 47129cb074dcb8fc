using System.Text.Json.Nodes;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders.Events;

namespace OrderFlow.Grains.Orders;

/// <summary>Reads <see cref="OrderPlaced"/> rows of earlier schema versions (README "Schema versions").</summary>
public sealed class OrderPlacedUpcaster : EventUpcaster
{
    public override Type EventType => typeof(OrderPlaced);

    public override void Upcast(int version, JsonObject data)
    {
        switch (version)
        {
            case 1:
                // Version 1 had no shipping address: such an order has none.
                data["shippingAddress"] = null;
                break;
            default:
                throw new InvalidDataException($"OrderPlaced has no step from schema version {version}.");
        }
    }
}
