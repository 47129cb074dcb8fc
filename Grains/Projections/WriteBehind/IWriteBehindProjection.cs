using OrderFlow.Streams;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>A projection of order events that counts in memory and persists in batches (see <see cref="WriteBehindProjectionGrain"/>).</summary>
public interface IWriteBehindProjection : IProjectionInput<OrderEventEnvelope>
{
    /// <summary>Persists what this activation counted now, instead of at the next tick; throws if that failed.</summary>
    Task Flush();
}
