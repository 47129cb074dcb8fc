namespace OrderFlow.Orders;

/// <summary>Where an order is in its lifecycle.</summary>
[GenerateSerializer, Alias("orderflow.order-status")]
public enum OrderStatus
{
    /// <summary>No event yet: the order does not exist.</summary>
    None = 0,
    Placed,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}
