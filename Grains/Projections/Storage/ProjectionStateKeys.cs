using System.Globalization;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Statistics;
using OrderFlow.Streams;
using Orleans.Runtime;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>
/// Where <see cref="StatisticsGrainStorage"/> keeps a grain's state. A projection's grains (days,
/// months, customers, stuck-order partitions…) share <see cref="PartitionsPerGeneration"/>
/// partitions per projection generation, "{service id}_{generation}_{n}" (n a stable hash of the
/// grain id), whatever their type: the grains' writes of one flush tick go in one entity-group
/// transaction per partition, and a generation's rows are a few exact partitions. Their RowKey is
/// the grain type, the grain key and the state name, the last two encoded (<see cref="KeyEncoding"/>),
/// joined by '.', which no encoded id holds. Grains outside generations (the projection control,
/// the parked list: one grain each) share one partition per type, "{service id}_{grain type}", and
/// their RowKey is the encoded grain key and state name.
/// </summary>
public static class ProjectionStateKeys
{
    /// <summary>
    /// Partitions per generation, shared by every projection: a silo's flush tick costs one transaction
    /// per partition for every <see cref="TableLimits.MaxEntitiesPerTransaction"/> rows (or 4 MiB) it
    /// writes there, whatever their grain types; fewer partitions make fewer requests, more spread the
    /// projections over more of the storage's throughput (<see cref="TableLimits.EntitiesPerSecondPerPartition"/>
    /// each, for entities of 1 KiB), against one row per changed grain per flush interval.
    /// Part of the stored layout: changing it needs a new <see cref="Generations.ProjectionSchema"/>.
    /// </summary>
    public const int PartitionsPerGeneration = 4;

    public static string PartitionKey(string serviceId, GrainId grainId) =>
        BelongsToGeneration(grainId)
            ? PartitionKey(serviceId, StatisticsKeys.GenerationOf(grainId.Key.ToString()), OrderEventStreams.PartitionOf(grainId.ToString(), PartitionsPerGeneration))
            : Prefix(serviceId, grainId.Type.ToString());

    public static string RowKey(GrainId grainId, string stateName)
    {
        var key = KeyEncoding.Encode(grainId.Key.ToString()) + "." + KeyEncoding.Encode(stateName);
        return BelongsToGeneration(grainId) ? KeyEncoding.Encode(grainId.Type.ToString()) + "." + key : key;
    }

    /// <summary>Every partition that holds projection state of <paramref name="generation"/>.</summary>
    public static IEnumerable<string> PartitionsOf(string serviceId, int generation) =>
        Enumerable.Range(0, PartitionsPerGeneration).Select(partition => PartitionKey(serviceId, generation, partition));

    /// <summary>Whether the grain is a projection's, whose key starts with its generation (<see cref="StatisticsKeys"/>).</summary>
    public static bool BelongsToGeneration(GrainId grainId)
    {
        var type = grainId.Type.ToString();
        return ProjectionRegistry.All.Any(projection => projection.GrainType == type);
    }

    /// <summary>
    /// The partitions of <paramref name="grainType"/>'s state in <paramref name="generation"/> in
    /// layouts 5 and 6 ("{service id}_{grain type}_{generation}_{n}", the service id encoded):
    /// deleted with their generation.
    /// </summary>
    public static IEnumerable<string> PartitionsBeforeLayout7Of(string serviceId, string grainType, int generation) =>
        Enumerable.Range(0, PartitionsPerGeneration).Select(partition =>
            string.Create(CultureInfo.InvariantCulture, $"{Prefix(serviceId, grainType)}_{generation}_{partition}"));

    /// <summary>A grain type is letters (<see cref="Generations.ProjectionGrainTypes"/>), a generation digits: these never meet the partitions of grains outside generations.</summary>
    private static string PartitionKey(string serviceId, int generation, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{KeyEncoding.Encode(serviceId)}_{generation}_{partition}");

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
