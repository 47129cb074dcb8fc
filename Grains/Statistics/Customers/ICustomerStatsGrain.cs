using OrderFlow.Grains.Projections;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>One customer's orders, spend, cancellations and refunds, and the risk rules that fired.</summary>
public interface ICustomerStatsGrain : IWriteBehindProjection, IProjectionInput<CustomerEventEnvelope>
{
    /// <summary>Null when neither an order nor a customer event of the customer was seen.</summary>
    Task<CustomerReport?> Get();
}
