using System.Reflection;
using Orleans;
using Orleans.Runtime;
using OrderFlow.Grains.Projections.Generations;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// Grain storage keys a grain's rows by its grain type, which Orleans otherwise derives from the
/// class name: renaming a class would orphan its stored state (for the projection control, the
/// record of which generation serves, so every statistic would be rebuilt as if new).
/// </summary>
public sealed class GrainTypePinningTests
{
    /// <summary>The names stored state is keyed by today: changing one orphans what deployments hold.</summary>
    private static readonly Dictionary<string, string?> Pinned = new()
    {
        ["ProjectionControlGrain"] = "projectioncontrol",
        ["ParkedRecordsGrain"] = "parkedrecords",
        ["DayStatsGrain"] = "daystats",
        ["MonthStatsGrain"] = "monthstats",
        ["CustomerStatsGrain"] = "customerstats",
        ["StuckOrdersGrain"] = "stuckorders",
        ["StatsCatalogGrain"] = "statscatalog",
        ["AlertFeedGrain"] = "alertfeed",
    };

    [Fact]
    public void Every_grain_with_state_in_grain_storage_pins_its_grain_type()
    {
        var withState = typeof(ProjectionControlGrain).Assembly.GetTypes()
            .Where(type => type is { IsClass: true, IsAbstract: false } && typeof(Grain).IsAssignableFrom(type))
            .Where(type => type.GetConstructors().SelectMany(constructor => constructor.GetParameters())
                .Any(parameter => parameter.GetCustomAttribute<PersistentStateAttribute>() is not null))
            .ToDictionary(type => type.Name, PinnedName);

        Assert.Equal(Pinned.OrderBy(pair => pair.Key), withState.OrderBy(pair => pair.Key));
    }

    private static string? PinnedName(Type grain) =>
        grain.GetCustomAttributesData().SingleOrDefault(attribute => attribute.AttributeType == typeof(GrainTypeAttribute))
            ?.ConstructorArguments.Single().Value as string;
}
