using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Parking;

[GenerateSerializer, Alias("orderflow.parked-state")]
public sealed class ParkedState
{
    /// <summary>By <see cref="ParkedRecordsGrain.IdOf"/>.</summary>
    [Id(0)] public Dictionary<string, ParkedRecord> Records { get; set; } = new(StringComparer.Ordinal);

    [Id(1)] public long NotListed { get; set; }
}
