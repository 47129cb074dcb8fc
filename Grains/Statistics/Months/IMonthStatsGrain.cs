using Orleans.Concurrency;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Days;

namespace OrderFlow.Grains.Statistics.Months;

/// <summary>One month of one shard, day by day and hour by hour. Key: see <see cref="StatisticsKeys.Month"/>.</summary>
public interface IMonthStatsGrain : IGrainWithStringKey
{
    /// <summary>A toDay past any month's last day: days [fromDay, ToMonthEnd) run to the month's end.</summary>
    const int ToMonthEnd = 32;

    /// <summary>
    /// Replaces a day's rollup and adds the products the day counted since the revision the month
    /// holds. Idempotent: the products of a revision already held (or older) are not added again, so
    /// a day that does not know whether its last push landed sends it again, and a late copy adds
    /// nothing; a push sent again after only its products landed writes its rollup.
    /// </summary>
    /// <param name="day">Day of the month, 1-based.</param>
    /// <param name="rollup">The whole day, at <see cref="DayRollup.Revision"/>.</param>
    /// <param name="baseRevision">The revision of the day the month must hold for <paramref name="productsSince"/> to apply.</param>
    /// <param name="productsSince">Product sales the day counted after <paramref name="baseRevision"/>.</param>
    /// <exception cref="MonthOutOfStepException">The month holds a revision older than the push but other than its base: the day and its month are out of step (a repair from the log has been requested).</exception>
    Task SetDay(int day, DayRollup rollup, long baseRevision, Dictionary<string, ProductTotals> productsSince);

    /// <summary>
    /// The day's rollup as its day grain holds it in memory, ahead of its next <see cref="SetDay"/>:
    /// what queries read until a push holds as many events. Kept in memory only. Interleaves with a
    /// push under way (it only takes note), so that a day's batches do not wait for the month's writes.
    /// </summary>
    /// <param name="unlanded">
    /// The product sales the day counted that may not have landed here: increments, each from its
    /// <see cref="MonthPush.BaseRevision"/>. <see cref="GetProducts"/> adds those whose base is
    /// the day's revision held here or a later one, so that what a push applied is not added again.
    /// </param>
    [AlwaysInterleave]
    Task SetLiveDay(int day, DayRollup rollup, IReadOnlyList<MonthPush> unlanded);

    /// <summary>
    /// The rollups of days [fromDay, toDay) of the month (1-based): of each day, the copy, live or
    /// pushed, with the most events (<see cref="DayRollup.EventCount"/>). Answered while a push writes.
    /// </summary>
    [AlwaysInterleave]
    Task<Dictionary<int, DayRollup>> GetDays(int fromDay, int toDay);

    /// <summary>
    /// Days [fromDay, toDay) of the month (1-based) as one bucket: the <see cref="DayRollup.Day"/>
    /// of what <see cref="GetDays"/> answers, merged here, so that a summary over whole months
    /// receives one bucket per month and shard, not every day's rollup with its hours.
    /// Answered while a push writes.
    /// </summary>
    [AlwaysInterleave]
    Task<Immutable<StatsBucket>> GetTotal(int fromDay, int toDay);

    /// <summary>
    /// The series figures of each of days [fromDay, toDay) of the month (1-based), from the days'
    /// rollups as <see cref="GetDays"/> answers them: what a time series by day needs, without
    /// each day's hours and latency sketches. Answered while a push writes.
    /// </summary>
    [AlwaysInterleave]
    Task<Immutable<Dictionary<int, SeriesTotals>>> GetDaySeries(int fromDay, int toDay);

    /// <summary>
    /// The hourly series figures of each of days [fromDay, toDay) of the month (1-based), from the
    /// days' rollups as <see cref="GetDays"/> answers them (<see cref="DayRollup.Hours"/>): what a time
    /// series by hour needs, without each day's whole-day bucket and its latency sketches. Answered
    /// while a push writes.
    /// </summary>
    [AlwaysInterleave]
    Task<Immutable<Dictionary<int, Dictionary<int, SeriesTotals>>>> GetHourSeries(int fromDay, int toDay);

    /// <summary>Product sales of the month (paid orders, by payment time), as pushed and as counted since (<see cref="SetLiveDay"/>); answered while a push writes.</summary>
    [AlwaysInterleave]
    Task<MonthProducts> GetProducts();

    /// <summary>
    /// <see cref="GetProducts"/>, or null if it would answer what it answered at <paramref name="held"/>
    /// (<see cref="MonthProducts.Version"/>): a query that keeps the sales of every month it has read
    /// asks the months that did not change for nothing. Answered while a push writes.
    /// </summary>
    [AlwaysInterleave]
    Task<MonthProducts?> GetProductsIfChanged(MonthProductsVersion? held);

    /// <summary>
    /// The revision of the day held here (0 if none), the day grain's revision when it sent it: the
    /// older of the rollup's and of the product increments', so that a push of which only one
    /// write landed is reported as not landed.
    /// </summary>
    Task<long> RevisionOf(int day);
}
