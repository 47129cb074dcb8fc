using System.Globalization;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Statistics;
using OrderFlow.Streams;
using Orleans.Runtime;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// Where <see cref="StatisticsGrainStorage"/> keeps a grain's state: one row in one of
/// <see cref="PartitionsPerGeneration"/> partitions per grain type and projection generation,
/// "{service id}_{grain type}_{generation}_{n}" (n a stable hash of the grain id), so that the writes
/// of many grains can go in one entity-group transaction and a generation's rows are a few exact
/// partitions. Grains outside generations (the projection control, the parked list: one grain
/// each) share one partition per type, "{service id}_{grain type}". The RowKey is the grain key and the state name, each encoded
/// (<see cref="KeyEncoding"/>), joined by '.', which no encoded id holds.
/// </summary>
public static class ProjectionStateKeys
{
    /// <summary>
    /// Partitions per grain type and generation: fewer make larger transactions (fewer requests), more
    /// spread a busy projection over more of the storage's per-partition throughput. Part of the stored
    /// layout: changing it needs a new <see cref="Generations.ProjectionSchema"/>.
    /// </summary>
    public const int PartitionsPerGeneration = 4;

    public static string PartitionKey(string serviceId, GrainId grainId)
    {
        var type = grainId.Type.ToString();
        return BelongsToGeneration(grainId)
            ? PartitionKey(serviceId, type, StatisticsKeys.GenerationOf(grainId.Key.ToString()), OrderEventStreams.PartitionOf(grainId.ToString(), PartitionsPerGeneration))
            : Prefix(serviceId, type);
    }

    public static string RowKey(GrainId grainId, string stateName) =>
        KeyEncoding.Encode(grainId.Key.ToString()) + "." + KeyEncoding.Encode(stateName);

    /// <summary>Every partition that holds state of <paramref name="grainType"/> in <paramref name="generation"/>.</summary>
    public static IEnumerable<string> PartitionsOf(string serviceId, string grainType, int generation) =>
        Enumerable.Range(0, PartitionsPerGeneration).Select(partition => PartitionKey(serviceId, grainType, generation, partition));

    /// <summary>Whether the grain is a projection's, whose key starts with its generation (<see cref="StatisticsKeys"/>).</summary>
    public static bool BelongsToGeneration(GrainId grainId)
    {
        var type = grainId.Type.ToString();
        return ProjectionRegistry.All.Any(projection => projection.GrainType == type);
    }

    private static string PartitionKey(string serviceId, string grainType, int generation, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix(serviceId, grainType)}_{generation}_{partition}");

    private static string Prefix(string serviceId, string grainType) => KeyEncoding.Encode(serviceId) + "_" + KeyEncoding.Encode(grainType);

    /// <summary>
    /// The PartitionKey Orleans' Azure Table grain storage gave the grain's state until layout 4
    /// ("{service id}_{grain id}" with '/', '\', '#' and '?' written as '_'; the RowKey was the state
    /// name, written so too): read once for the grains outside generations, so that an upgrade finds
    /// the projection control and rebuilds, and deleted with the generations it held.
    /// </summary>
    public static string LegacyPartitionKey(string serviceId, string grainId) => LegacySanitize(serviceId + "_" + grainId);

    public static string LegacyRowKey(string stateName) => LegacySanitize(stateName);

    private static string LegacySanitize(string key) => key.Replace('/', '_').Replace('\\', '_').Replace('#', '_').Replace('?', '_');
}
