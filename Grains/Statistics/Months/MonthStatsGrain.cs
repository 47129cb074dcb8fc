using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Catalog;
using OrderFlow.Grains.Statistics.Days;
using OrderFlow.Grains.Projections;

namespace OrderFlow.Grains.Statistics.Months;

/// <remarks>
/// A push writes the day's rollup (a replacement, harmless to repeat) and the product increment
/// (guarded by <see cref="MonthProductsState.Applied"/>) at once, so that both go in one
/// transaction of their partition's group commit. Either may land without the other (the group
/// commit does not promise one transaction), so <see cref="RevisionOf"/> answers the older of the
/// two revisions: a push of which one write landed is reported as not landed, sent again, and
/// completes what is missing.
/// </remarks>
[GrainType(ProjectionGrainTypes.Month)]
public sealed class MonthStatsGrain(
    [PersistentState("month", StatisticsOptions.StorageName)] IPersistentState<MonthStatsState> state,
    [PersistentState("products", StatisticsOptions.StorageName)] IPersistentState<MonthProductsState> products,
    ILogger<MonthStatsGrain> logger) : Grain, IMonthStatsGrain
{
    /// <summary>Fed by its days (<see cref="Days.DayStatsGrain"/>), not by streams.</summary>
    public static readonly ProjectionDefinition Projection = ProjectionDefinition.Of(ProjectionGrainTypes.Month);

    private bool registered;

    /// <summary>
    /// Day of month → its rollup as last sent by <see cref="SetLiveDay"/>. Live copies and pushes
    /// of a day race (a day sends both, and calls are not ordered), so neither replaces the other by
    /// arrival: <see cref="Latest"/> keeps the one with the most events.
    /// </summary>
    private readonly Dictionary<int, DayRollup> live = [];

    /// <summary>Day of month → the product increments that came with <see cref="live"/>'s copy of the day.</summary>
    private readonly Dictionary<int, IReadOnlyList<MonthPush>> liveProducts = [];

    /// <summary>
    /// This activation's changes to what it answers (<see cref="Changes"/>): counted wherever a day's
    /// rollup, a live copy or the products change, and when the states are other objects than those
    /// counted on (a write that met a conflict holds the state it read meanwhile).
    /// </summary>
    private long changes;

    private (MonthStatsState Month, MonthProductsState Products)? countedOn;

    /// <summary>This activation, in <see cref="MonthProductsVersion"/>.</summary>
    private readonly Guid activation = Guid.NewGuid();

    /// <summary>
    /// The whole month's <see cref="GetTotal"/>, made when first asked after a change: a summary over
    /// all time asks every month, and the months before this one seldom change. Never changed once
    /// made: it is answered without a copy.
    /// </summary>
    private (long Change, StatsBucket Total)? wholeMonth;

    /// <summary>A repair has been requested by this activation (once is enough: it replaces the whole generation).</summary>
    private bool repairRequested;

    public async Task SetDay(int day, DayRollup rollup, long baseRevision, Dictionary<string, ProductTotals> productsSince)
    {
        var applied = products.State.Applied.GetValueOrDefault(day);
        if (rollup.Revision <= applied)
        {
            // A repeat, or a late copy of a push the day has sent again since; or the push again
            // after only its product increment landed, whose rollup is still to be written
            // (WriteRollupAsync writes nothing when the rollup held is as recent).
            if (rollup.Revision == applied)
            {
                await WriteAsync(() => WriteRollupAsync(day, rollup));
            }

            return;
        }

        if (applied != baseRevision)
        {
            await ThrowIfSupersededAsync(); // a month that missed another activation's writes is not out of step
            var message = $"Month {this.GetPrimaryKeyString()} holds revision {applied} of day {day}; a push from revision {baseRevision} to {rollup.Revision} does not follow it.";
            if (!repairRequested)
            {
                logger.LogError("{Message} The projections are re-derived from the event log.", message);
                await GrainFactory.GetGrain<IProjectionControl>(0).RequestRepair(message);
                repairRequested = true;
            }

            throw new MonthOutOfStepException(message);
        }

        // First, so that a failure here leaves the push to be sent again: the day's retry would
        // find the push landed and not send it again if registering came after the writes.
        await RegisterAsync();

        await WriteAsync(() =>
        {
            var state = products.State;
            var added = productsSince.Where(pair => !state.Products.ContainsKey(pair.Key)).ToDictionary();
            if (state.Unlisted is null)
            {
                ProductTotals.Merge(state.Products, productsSince);
            }
            else
            {
                // Since the entity filled, SKUs new to the month are summed unlisted (WriteProductsAsync).
                ProductTotals.Merge(state.Products, productsSince.Where(pair => !added.ContainsKey(pair.Key)).ToDictionary());
                Unlist(added.Values);
            }

            state.Applied[day] = rollup.Revision;
            changes++;

            // Both writes begin in this turn, so they reach the partition's group commit within
            // its linger (Statistics:GroupCommitLinger) and go in one transaction.
            return Task.WhenAll(WriteRollupAsync(day, rollup), WriteProductsAsync(added));
        });
    }

    /// <summary>
    /// Reads the month's rows again, which fails (<see cref="ProjectionSupersededException"/>) if
    /// another activation of the month wrote them since this one read them: Orleans keeps one
    /// activation per grain, but not while the cluster's membership changes, and a push that follows
    /// what the other applied is then in step. This activation deactivates; the day sends the push
    /// again, to the activation that reads them anew.
    /// </summary>
    private async Task ThrowIfSupersededAsync()
    {
        try
        {
            await products.ReadStateAsync();
            await state.ReadStateAsync();
        }
        catch (ProjectionSupersededException)
        {
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Times a products write refused as too large is tried again with fewer SKUs listed.</summary>
    private const int ProductsTooLargeRetries = 5;

    /// <summary>
    /// Writes the products, <paramref name="added"/> the SKUs this push brought new to the month.
    /// Once they no longer fit the entity (the write is refused, before it is sent or by the service: nothing is written), the day's
    /// figures go on, since a push that cannot land would hold up every later push of the day:
    /// SKUs new to the month from then on are summed unlisted (<see cref="MonthProductsState.Unlisted"/>),
    /// this push's first; should the entity still outgrow its room (its numbers take more bytes as
    /// they grow), the twentieth of the listed SKUs that sold least is unlisted, as often as needed.
    /// </summary>
    private async Task WriteProductsAsync(Dictionary<string, ProductTotals> added)
    {
        var state = products.State;
        for (var retry = 0; ; retry++)
        {
            try
            {
                await products.WriteOwnStateAsync(this);
                return;
            }
            catch (ProjectionStateTooLargeException) when (retry < ProductsTooLargeRetries && state.Products.Count > 0)
            {
                var listedNow = added.Keys.Where(state.Products.ContainsKey).ToList();
                var unlisting = listedNow.Count > 0
                    ? listedNow
                    : [.. state.Products.OrderBy(pair => pair.Value.Revenue).ThenBy(pair => pair.Value.Quantity).ThenBy(pair => pair.Key, StringComparer.Ordinal)
                        .Take(Math.Max(1, state.Products.Count / 20)).Select(pair => pair.Key)];
                var first = state.Unlisted is null;
                Unlist(unlisting.Select(sku => state.Products[sku]));
                foreach (var sku in unlisting)
                {
                    state.Products.Remove(sku);
                }

                changes++;

                logger.Log(first ? LogLevel.Error : LogLevel.Warning,
                    "The products of month {Month} outgrew their entity: {Unlisted} SKUs are summed unlisted, {Listed} stay listed; SKUs new to the month are summed unlisted from now on (README \"Capacity\").",
                    this.GetPrimaryKeyString(), unlisting.Count, state.Products.Count);
            }
        }
    }

    private void Unlist(IEnumerable<ProductTotals> sales)
    {
        var unlisted = products.State.Unlisted ??= new ProductTotals();
        foreach (var totals in sales)
        {
            unlisted.Add(totals);
        }
    }

    /// <summary>Replaces the day's rollup unless the one held is as recent.</summary>
    private Task WriteRollupAsync(int day, DayRollup rollup)
    {
        if (PushedRevisionOf(day) >= rollup.Revision)
        {
            return Task.CompletedTask;
        }

        state.State.Days[day] = rollup;
        changes++;
        return state.WriteOwnStateAsync(this);
    }

    /// <summary>A write after which, should it fail, the next activation says what landed (in memory, RevisionOf would report the push as landed).</summary>
    private Task WriteAsync(Func<Task> write) => OwnStateWrites.DeactivatingOnFailureAsync(write, DeactivateOnIdle);

    private long PushedRevisionOf(int day) => state.State.Days.TryGetValue(day, out var held) ? held.Revision : 0;

    public async Task SetLiveDay(int day, DayRollup rollup, IReadOnlyList<MonthPush> unlanded)
    {
        // Compared with the live copy only, not with the push: Latest shows whichever of the two
        // holds more events, and GetProducts leaves out the increments a push has applied.
        if (live.TryGetValue(day, out var held) && held.EventCount >= rollup.EventCount)
        {
            return; // an older copy, overtaken by a later one
        }

        live[day] = rollup;
        liveProducts[day] = unlanded;
        changes++;
        await RegisterAsync(); // so that queries over all time find a month none of whose days has been pushed yet
    }

    private async Task RegisterAsync()
    {
        if (!registered)
        {
            var (generation, _, month) = StatisticsKeys.ParseSharded(this.GetPrimaryKeyString());
            await GrainFactory.GetGrain<IStatsCatalogGrain>(StatisticsKeys.Global(generation)).Register(month);
            registered = true;
        }
    }

    /// <summary>Of the day's pushed and live copies, the one with the most events; the pushed one when they hold as many.</summary>
    private DayRollup? Latest(int day)
    {
        var pushed = state.State.Days.GetValueOrDefault(day);
        return live.TryGetValue(day, out var counted) && (pushed is null || counted.EventCount > pushed.EventCount) ? counted : pushed;
    }

    /// <summary>The revision both the day's rollup and its product increments landed at (see the remarks above).</summary>
    public Task<long> RevisionOf(int day) => Task.FromResult(Math.Min(PushedRevisionOf(day), products.State.Applied.GetValueOrDefault(day)));

    public Task<Dictionary<int, DayRollup>> GetDays(int fromDay, int toDay) =>
        Task.FromResult(DaysWithin(fromDay, toDay).ToDictionary(day => day, day => Latest(day)!));

    public Task<Immutable<StatsBucket>> GetTotal(int fromDay, int toDay)
    {
        if (fromDay > 1 || toDay < IMonthStatsGrain.ToMonthEnd)
        {
            return Task.FromResult(TotalOf(fromDay, toDay).AsImmutable());
        }

        var change = Changes();
        if (wholeMonth is not { } held || held.Change != change)
        {
            wholeMonth = held = (change, TotalOf(1, IMonthStatsGrain.ToMonthEnd));
        }

        return Task.FromResult(held.Total.AsImmutable());
    }

    public Task<Immutable<Dictionary<int, SeriesTotals>>> GetDaySeries(int fromDay, int toDay) =>
        Task.FromResult(DaysWithin(fromDay, toDay).ToDictionary(day => day, day => SeriesTotals.Of([Latest(day)!.Day])).AsImmutable());

    /// <summary>Each day's hours as its rollup holds them: a rollup is never changed once made, so they go without a copy.</summary>
    public Task<Immutable<Dictionary<int, Dictionary<int, SeriesTotals>>>> GetHourSeries(int fromDay, int toDay) =>
        Task.FromResult(DaysWithin(fromDay, toDay).ToDictionary(day => day, day => Latest(day)!.Hours).AsImmutable());

    private StatsBucket TotalOf(int fromDay, int toDay) => StatsBucket.MergeAll(DaysWithin(fromDay, toDay).Select(day => Latest(day)!.Day));

    /// <summary>The days of [fromDay, toDay) that have a rollup, pushed or live.</summary>
    private IEnumerable<int> DaysWithin(int fromDay, int toDay) =>
        state.State.Days.Keys.Union(live.Keys).Where(day => day >= fromDay && day < toDay);

    /// <summary>
    /// The products pushed, plus of each day whose live copy is the latest (<see cref="Latest"/>)
    /// the increments counted since the revision the month holds: one that follows an older
    /// revision was applied by a push already (a day's revisions only grow, and a push carries
    /// everything counted before it was made). A live copy that a push has caught up with is left
    /// out whatever its revisions: it may come from an activation that died, whose revisions the
    /// next activation numbered again, for other increments.
    /// </summary>
    public Task<MonthProducts> GetProducts() => Task.FromResult(Products());

    public Task<MonthProducts?> GetProductsIfChanged(MonthProductsVersion? held) =>
        Task.FromResult(ProductsVersion() == held ? null : Products());

    private MonthProductsVersion ProductsVersion() => new(activation, Changes());

    /// <summary>The count of this activation's changes, a state that is another object than the one counted on counting as one.</summary>
    private long Changes()
    {
        if (countedOn is not { } states || !ReferenceEquals(states.Month, state.State) || !ReferenceEquals(states.Products, products.State))
        {
            countedOn = (state.State, products.State);
            changes++;
        }

        return changes;
    }

    private MonthProducts Products()
    {
        var version = ProductsVersion();
        var state = products.State;
        var counted = liveProducts
            .Where(pair => ReferenceEquals(Latest(pair.Key), live[pair.Key]))
            .SelectMany(pair => pair.Value.Where(increment => increment.BaseRevision >= state.Applied.GetValueOrDefault(pair.Key)))
            .ToList();
        if (counted.Count == 0)
        {
            return new MonthProducts(state.Products, state.Unlisted, version);
        }

        var listed = new Dictionary<string, ProductTotals>();
        ProductTotals.Merge(listed, state.Products);
        ProductTotals? unlisted = null;
        if (state.Unlisted is { } held)
        {
            (unlisted = new ProductTotals()).Add(held);
        }

        foreach (var increment in counted)
        {
            if (unlisted is null)
            {
                ProductTotals.Merge(listed, increment.Products);
                continue;
            }

            // Once SKUs new to the month are summed unlisted, a live one is counted as its push will count it.
            foreach (var (sku, sales) in increment.Products)
            {
                (state.Products.ContainsKey(sku) ? listed[sku] : unlisted).Add(sales);
            }
        }

        return new MonthProducts(listed, unlisted, version);
    }
}
