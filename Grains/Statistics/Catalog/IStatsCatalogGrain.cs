using Orleans.Concurrency;
using OrderFlow.Grains.Statistics.Alerts;

namespace OrderFlow.Grains.Statistics.Catalog;

/// <summary>
/// Which months have statistics (the extent of "all time") and which days have alerts. Every
/// query asks it first, so its reads do not wait for a registration's write.
/// </summary>
public interface IStatsCatalogGrain : IGrainWithStringKey
{
    Task Register(string month);

    /// <summary>Months as "yyyy-MM", in order.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> Months();

    Task RegisterAlertDay(DateOnly day);

    /// <summary>Takes a day whose alerts were all withdrawn or moved off the list: the alert queries read it no more.</summary>
    Task UnregisterAlertDay(DateOnly day);

    /// <summary>Days whose <see cref="AlertFeedGrain"/> holds alerts (or did, until its last unregistration), in order.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<DateOnly>> AlertDays();
}
