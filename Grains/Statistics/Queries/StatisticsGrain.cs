using System.Globalization;
using OrderFlow.EventTypes;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Grains.Statistics.Customers;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Grains.Statistics.StuckOrders;
using OrderFlow.Orders.Events;
using OrderFlow.Orders;
using OrderFlow.Statistics;
using OrderFlow.Streams;
using Orleans.Concurrency;

namespace OrderFlow.Grains.Statistics.Queries;

/// <summary>
/// Answers statistics queries by merging the projection grains: minutes and parts of days come from
/// day grains, whole days and hours from month grains, every shard's share added up; the best
/// sellers of all time from <see cref="AllTimeProductsGrain"/>, which keeps them between queries.
/// </summary>
[StatelessWorker]
public sealed class StatisticsGrain(TimeProvider time) : Grain, IStatisticsGrain
{
    private const int MinutesPerDay = 1440;

    private static readonly string[] EventTypes = [.. EventTypeRegistry<OrderEvent>.All.Select(type => type.StoredName)];

    private static readonly OrderStatus[] Statuses =
        [OrderStatus.Placed, OrderStatus.Paid, OrderStatus.Shipped, OrderStatus.Delivered, OrderStatus.Cancelled, OrderStatus.Refunded];

    /// <summary>The generation this call reads, fixed at the start of the call so that a switch mid-query cannot mix two.</summary>
    private Task<int> ActiveGeneration() => GrainFactory.GetGrain<IProjectionControl>(0).Active();

    public async Task<SummaryReport> Summary(DateTimeOffset? from, DateTimeOffset? to)
    {
        from = from is { } f ? StatsRange.MinuteCeiling(f) : null;
        to = to is { } t ? StatsRange.MinuteCeiling(t) : null;
        var generation = await ActiveGeneration();
        var months = await CatalogMonthsAsync(generation);
        var start = from ?? (months.Count > 0 ? MonthStart(months[0]) : DateTimeOffset.UnixEpoch);
        var end = to ?? (months.Count > 0 ? MonthStart(months[^1]).AddMonths(1) : DateTimeOffset.UnixEpoch);
        var total = start < end ? StatsBucket.MergeAll(await Task.WhenAll(Pieces(generation, months, start, end))) : new StatsBucket();
        return ToSummary(from, to, total);
    }

    /// <summary>
    /// Whole buckets come from the month grains: whole days from each day's figures, whole hours
    /// from the days' hourly rollups (whole minutes from the day grains for interval=minute); a
    /// partial first or last bucket counts the minutes it covers, which each shard's day merges into
    /// one bucket (minute by minute for interval=minute).
    /// </summary>
    public async Task<TimeSeriesReport> TimeSeries(DateTimeOffset from, DateTimeOffset to, StatsInterval interval)
    {
        from = StatsRange.MinuteCeiling(from);
        to = StatsRange.MinuteCeiling(to);
        var generation = await ActiveGeneration();
        var byStart = new Dictionary<DateTimeOffset, SeriesTotals>();
        void Add(DateTimeOffset start, SeriesTotals totals) =>
            byStart[start] = byStart.TryGetValue(start, out var existing) ? existing.Merge(totals) : new SeriesTotals().Merge(totals);

        async Task AddMinutesAsync(DateTimeOffset pieceFrom, DateTimeOffset pieceTo)
        {
            foreach (var (dayStart, minutes) in await MinutesAsync(generation, pieceFrom, pieceTo))
            {
                foreach (var (minute, bucket) in minutes)
                {
                    var start = dayStart.AddMinutes(minute);
                    if (start >= pieceFrom && start < pieceTo)
                    {
                        Add(StatsRange.Floor(start, interval), SeriesTotals.Of([bucket]));
                    }
                }
            }
        }

        if (from < to)
        {
            // [from, to) = a partial head, whole buckets [wholeFrom, wholeTo), a partial tail; any may be empty.
            var wholeFrom = Min(StatsRange.Ceiling(from, interval), to);
            var wholeTo = Max(StatsRange.Floor(to, interval), wholeFrom);
            // A partial first or last bucket lies within one bucket, so within one day: by hour or by day,
            // each shard's day answers it as one bucket.
            async Task AddPartialAsync(DateTimeOffset pieceFrom, DateTimeOffset pieceTo)
            {
                if (interval == StatsInterval.Minute)
                {
                    await AddMinutesAsync(pieceFrom, pieceTo);
                }
                else
                {
                    Add(StatsRange.Floor(pieceFrom, interval), SeriesTotals.Of([await PartialDayAsync(generation, pieceFrom, pieceTo)]));
                }
            }

            if (from < wholeFrom)
            {
                await AddPartialAsync(from, wholeFrom);
            }

            if (wholeTo < to)
            {
                await AddPartialAsync(wholeTo, to);
            }

            if (wholeFrom < wholeTo)
            {
                if (interval == StatsInterval.Minute)
                {
                    await AddMinutesAsync(wholeFrom, wholeTo);
                }
                else if (interval == StatsInterval.Day)
                {
                    // Each month answers a day's figures, not its hours with their sketches.
                    foreach (var (dayStart, totals) in await ByDayAsync(generation, wholeFrom, wholeTo,
                        async (month, span) => (await month.GetDaySeries(span.FromDay, span.ToDay)).Value))
                    {
                        Add(dayStart, totals);
                    }
                }
                else
                {
                    // Each month answers its days' hours, not their whole-day buckets with their sketches.
                    foreach (var (dayStart, hours) in await ByDayAsync(generation, DayOf(wholeFrom), DayOf(wholeTo.AddTicks(-1)).AddDays(1),
                        async (month, span) => (await month.GetHourSeries(span.FromDay, span.ToDay)).Value))
                    {
                        foreach (var (hour, totals) in hours)
                        {
                            var hourStart = dayStart.AddHours(hour);
                            if (hourStart >= wholeFrom && hourStart < wholeTo)
                            {
                                Add(StatsRange.Floor(hourStart, interval), totals);
                            }
                        }
                    }
                }
            }
        }

        var step = StatsRange.Step(interval);
        var buckets = new List<TimeSeriesBucket>();
        for (var start = from < to ? StatsRange.Floor(from, interval) : to; start < to; start += step)
        {
            var b = byStart.GetValueOrDefault(start) ?? new SeriesTotals();
            var coveredFrom = Max(start, from);
            var coveredTo = Min(start + step, to);
            buckets.Add(new TimeSeriesBucket(
                start,
                b.EnteredCount(OrderStatus.Placed), b.EnteredCount(OrderStatus.Paid), b.EnteredCount(OrderStatus.Shipped),
                b.EnteredCount(OrderStatus.Delivered), b.EnteredCount(OrderStatus.Cancelled), b.EnteredCount(OrderStatus.Refunded),
                b.Revenue, b.Refunds,
                coveredFrom != start || coveredTo != start + step, coveredFrom, coveredTo));
        }

        return new TimeSeriesReport(interval, buckets, from, to);
    }

    public async Task<ProductsReport> TopProducts(int top, bool byQuantity) =>
        await GrainFactory.GetGrain<IAllTimeProductsGrain>(await ActiveGeneration()).Top(top, byQuantity);

    public async Task<CustomerReport?> Customer(string customerId) =>
        await GrainFactory.GetGrain<ICustomerStatsGrain>(StatisticsKeys.Customer(await ActiveGeneration(), customerId)).Get();

    /// <summary>Alert days read at once: a day whose alerts were all withdrawn stays registered, so the days before the first standing alert can be many.</summary>
    private const int AlertDaysReadTogether = 8;

    /// <summary>Reads the days that have alerts, from the day of <paramref name="since"/> on, a few at a time in order, until <paramref name="limit"/> are found.</summary>
    public async Task<IReadOnlyList<RiskAlert>> Alerts(DateTimeOffset? since, int limit)
    {
        var generation = await ActiveGeneration();
        var days = (await GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).AlertDays())
            .Where(day => since is null || day >= DateOnly.FromDateTime(since.Value.UtcDateTime));
        var alerts = new List<RiskAlert>();
        foreach (var chunk in days.Chunk(AlertDaysReadTogether))
        {
            var wanted = limit - alerts.Count;
            var found = await Task.WhenAll(chunk.Select(day => GrainFactory.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(generation, day)).Since(since, wanted)));
            alerts.AddRange(found.SelectMany(dayAlerts => dayAlerts).Take(wanted));
            if (alerts.Count == limit)
            {
                break;
            }
        }

        return alerts;
    }

    public async Task<IReadOnlyList<StuckOrder>> Stuck(OrderStatus status, TimeSpan olderThan, int limit)
    {
        var enteredBefore = time.GetUtcNow() - olderThan;
        var generation = await ActiveGeneration();
        var found = await Task.WhenAll(Enumerable.Range(0, StatisticsKeys.StuckOrderPartitions).Select(partition =>
            GrainFactory.GetGrain<IStuckOrdersGrain>(StatisticsKeys.StuckOrders(generation, partition)).Find(status, enteredBefore, limit)));
        return [.. StuckOrdersGrain.Oldest(found.SelectMany(f => f), limit)];
    }

    /// <summary>[start, end) as partial days, one bucket per shard from the day, and runs of whole days, one bucket per month and shard.</summary>
    private IEnumerable<Task<StatsBucket>> Pieces(int generation, IReadOnlyList<string> months, DateTimeOffset start, DateTimeOffset end)
    {
        var cursor = start;
        while (cursor < end)
        {
            var dayStart = DayOf(cursor);
            if (cursor == dayStart && end >= dayStart.AddDays(1))
            {
                var wholeEnd = DayOf(end);
                yield return WholeDaysAsync(generation, months, cursor, wholeEnd);
                cursor = wholeEnd;
            }
            else
            {
                var segmentEnd = end < dayStart.AddDays(1) ? end : dayStart.AddDays(1);
                yield return PartialDayAsync(generation, cursor, segmentEnd);
                cursor = segmentEnd;
            }
        }
    }

    /// <summary>Every shard's total of the whole days [from, to): one bucket per month and shard, merged by the month (<see cref="IMonthStatsGrain.GetTotal"/>).</summary>
    private async Task<StatsBucket> WholeDaysAsync(int generation, IReadOnlyList<string> months, DateTimeOffset from, DateTimeOffset to) =>
        StatsBucket.MergeAll((await Task.WhenAll(MonthsWithin(months, from, to).SelectMany(span => Shards().Select(shard =>
            Month(generation, shard, span.MonthStart).GetTotal(span.FromDay, span.ToDay))))).Select(total => total.Value));

    /// <summary>Every shard's total of [from, to), within one day: one bucket per shard, merged by the day (<see cref="IDayStatsGrain.GetMinutesTotal"/>).</summary>
    private async Task<StatsBucket> PartialDayAsync(int generation, DateTimeOffset from, DateTimeOffset to)
    {
        var day = DayOf(from);
        var (fromMinute, toMinute) = MinutesOf(day, from, to);
        var date = DateOnly.FromDateTime(day.UtcDateTime);
        return StatsBucket.MergeAll((await Task.WhenAll(Shards().Select(shard =>
            GrainFactory.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(generation, shard, date)).GetMinutesTotal(fromMinute, toMinute)))).Select(total => total.Value));
    }

    /// <summary>The minutes of <paramref name="day"/> (0–1440) that [from, to) covers.</summary>
    private static (int From, int To) MinutesOf(DateTimeOffset day, DateTimeOffset from, DateTimeOffset to) =>
        (from > day ? (int)(from - day).TotalMinutes : 0, to < day.AddDays(1) ? (int)(to - day).TotalMinutes : MinutesPerDay);

    /// <summary>Every shard's minute buckets of the days overlapping [from, to), limited to that range.</summary>
    private async Task<List<(DateTimeOffset DayStart, Dictionary<int, StatsBucket> Minutes)>> MinutesAsync(int generation, DateTimeOffset from, DateTimeOffset to)
    {
        var calls = new List<Task<(DateTimeOffset, Dictionary<int, StatsBucket>)>>();
        for (var day = DayOf(from); day < to; day = day.AddDays(1))
        {
            var (fromMinute, toMinute) = MinutesOf(day, from, to);
            var date = DateOnly.FromDateTime(day.UtcDateTime);
            var dayStart = day;
            foreach (var shard in Shards())
            {
                calls.Add(Minutes(shard, date, dayStart, fromMinute, toMinute));
            }
        }

        return [.. await Task.WhenAll(calls)];

        async Task<(DateTimeOffset, Dictionary<int, StatsBucket>)> Minutes(int shard, DateOnly date, DateTimeOffset dayStart, int fromMinute, int toMinute) =>
            (dayStart, await GrainFactory.GetGrain<IDayStatsGrain>(StatisticsKeys.Day(generation, shard, date)).GetMinutes(fromMinute, toMinute));
    }

    /// <summary>
    /// Every shard's figure of each day of the whole days [from, to), by the day's start:
    /// <paramref name="read"/> asks one month of one shard for its days in range (day of month → figure).
    /// </summary>
    private async Task<List<(DateTimeOffset DayStart, T Figure)>> ByDayAsync<T>(
        int generation, DateTimeOffset from, DateTimeOffset to, Func<IMonthStatsGrain, MonthSpan, Task<Dictionary<int, T>>> read)
    {
        var months = await CatalogMonthsAsync(generation);
        var calls = MonthsWithin(months, from, to).SelectMany(span => Shards().Select(shard => Days(shard, span)));
        return [.. (await Task.WhenAll(calls)).SelectMany(d => d)];

        async Task<List<(DateTimeOffset, T)>> Days(int shard, MonthSpan span) =>
            [.. (await read(Month(generation, shard, span.MonthStart), span)).Select(pair => (span.MonthStart.AddDays(pair.Key - 1), pair.Value))];
    }

    /// <summary>Days [FromDay, ToDay) (1-based; <see cref="IMonthStatsGrain.ToMonthEnd"/>: to the month's end) of the month starting at MonthStart.</summary>
    private readonly record struct MonthSpan(DateTimeOffset MonthStart, int FromDay, int ToDay);

    /// <summary>
    /// The months of <paramref name="months"/> (the catalog's) that overlap the whole days [from, to),
    /// each with the days of it in range: only those are read, so a query costs what its data costs,
    /// not what its range spans.
    /// </summary>
    private static IEnumerable<MonthSpan> MonthsWithin(IReadOnlyList<string> months, DateTimeOffset from, DateTimeOffset to) =>
        months.Select(MonthStart).Where(month => month < to && month.AddMonths(1) > from)
            .Select(month => new MonthSpan(month, from > month ? from.Day : 1, to < month.AddMonths(1) ? to.Day : IMonthStatsGrain.ToMonthEnd));

    private IMonthStatsGrain Month(int generation, int shard, DateTimeOffset monthStart) =>
        GrainFactory.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, shard, monthStart.Year, monthStart.Month));

    /// <summary>The months that have statistics, "yyyy-MM" in order; asked once per query.</summary>
    private Task<IReadOnlyList<string>> CatalogMonthsAsync(int generation) =>
        GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).Months();

    private static SummaryReport ToSummary(DateTimeOffset? from, DateTimeOffset? to, StatsBucket b)
    {
        var revenue = b.Revenue.Values.Sum();
        var refunds = b.Refunds.Values.Sum();
        var payments = b.Payments.Values.Sum();
        var orders = Statuses.ToDictionary(StatsBucket.StatusName, b.EnteredCount);
        var currencies = b.Revenue.Keys.Union(b.Refunds.Keys).Order(StringComparer.Ordinal).ToDictionary(c => c, c =>
        {
            var r = b.Revenue.GetValueOrDefault(c);
            var f = b.Refunds.GetValueOrDefault(c);
            var n = b.Payments.GetValueOrDefault(c);
            return new CurrencyTotals(r, f, r - f, n, AverageOrderValue(r, n));
        });
        return new SummaryReport(
            from, to,
            EventTypes.ToDictionary(t => t, t => b.Events.GetValueOrDefault(t)),
            orders,
            revenue, refunds, revenue - refunds,
            AverageOrderValue(revenue, payments),
            new Dictionary<string, decimal?>
            {
                ["placedToPaid"] = Ratio(orders["paid"], orders["placed"]),
                ["paidToShipped"] = Ratio(orders["shipped"], orders["paid"]),
                ["shippedToDelivered"] = Ratio(orders["delivered"], orders["shipped"]),
            },
            new Dictionary<string, LatencyPercentiles>
            {
                ["placedToPaid"] = Percentiles(b.PlacedToPaid),
                ["paidToShipped"] = Percentiles(b.PaidToShipped),
                ["shippedToDelivered"] = Percentiles(b.ShippedToDelivered),
            },
            currencies);
    }

    /// <summary>Revenue per payment to the cent, halves away from zero (10.125 is 10.13) as money is rounded in commerce; null without payments.</summary>
    private static decimal? AverageOrderValue(decimal revenue, long payments) =>
        payments == 0 ? null : decimal.Round(revenue / payments, 2, MidpointRounding.AwayFromZero);

    /// <summary>To four places, as a decimal without trailing zeros (0.5, not 0.5000).</summary>
    private static decimal? Ratio(long part, long whole) => whole == 0 ? null : Exact((double)part / whole, 4);

    /// <summary>To the millisecond: the sketch is accurate to 1 %, and more digits would only print floating-point tails.</summary>
    private static LatencyPercentiles Percentiles(LatencyHistogram h) =>
        new(Seconds(h.Percentile(0.50)), Seconds(h.Percentile(0.95)), Seconds(h.Percentile(0.99)), h.Count);

    private static decimal? Seconds(double? seconds) => seconds is { } value ? Exact(value, 3) : null;

    /// <summary>
    /// <paramref name="value"/> rounded to <paramref name="places"/> decimals, as a decimal with no
    /// trailing zeros: a whole count divided by a power of ten keeps only the digits it needs.
    /// </summary>
    private static decimal Exact(double value, int places)
    {
        var scale = (decimal)Math.Pow(10, places);
        return decimal.Round((decimal)value * scale) / scale;
    }

    private static IEnumerable<int> Shards() => Enumerable.Range(0, OrderEventStreams.ShardCount);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset DayOf(DateTimeOffset time) => new(time.UtcDateTime.Date, TimeSpan.Zero);

    private static DateTimeOffset MonthStart(string month) =>
        DateTimeOffset.ParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
