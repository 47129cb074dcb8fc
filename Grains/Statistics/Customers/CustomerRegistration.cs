namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>
/// The customer's registration as the customer events tell it: the side of the join of rule
/// <see cref="RiskRules.NewAccountLargeOrder"/> that the customer's own placements
/// (<see cref="CustomerStatsState.Placed"/>) do not hold.
/// </summary>
/// <remarks>
/// Stored where layout 4 kept <c>NewAccountLargeOrders</c> (<see cref="CustomerStatsState.Registration"/>,
/// field 14): its registration time is field 0 here too, and the large orders it kept (field 1)
/// are skipped when such a state is read, since every placement is in <see cref="CustomerStatsState.Placed"/>.
/// </remarks>
[GenerateSerializer, Alias("orderflow.customer-registration")]
public sealed class CustomerRegistration
{
    /// <summary>The event time of the customer's registration, once a customer event told it (every customer event carries it).</summary>
    [Id(0)] public DateTimeOffset? RegisteredAt { get; set; }
}
