using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Statistics;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>One customer's orders, spend, cancellations and refunds, and the risk rules that fired.</summary>
public interface ICustomerStatsGrain : IWriteBehindProjection
{
    /// <summary>Null when no order of the customer was seen.</summary>
    Task<CustomerReport?> Get();
}
