using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Statistics;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>One customer's orders, spend, cancellations and refunds, and the risk rules that fired.</summary>
public interface ICustomerStatsGrain : IWriteBehindProjection
{
    /// <summary>Null when neither an order nor a customer event of the customer was seen.</summary>
    Task<CustomerReport?> Get();

    /// <summary>Counts a customer event once, however often it is delivered; persisted at the next flush (as <see cref="IWriteBehindProjection.Ingest"/>).</summary>
    Task IngestCustomerEvent(CustomerEventEnvelope envelope);

    /// <summary>Counts each customer event once and persists before returning, or throws (as <see cref="IWriteBehindProjection.IngestAndPersist"/>).</summary>
    /// <returns>The positions in <paramref name="envelopes"/> of the events counted for the first time.</returns>
    Task<int[]> IngestCustomerEventsAndPersist(IReadOnlyList<CustomerEventEnvelope> envelopes);
}
