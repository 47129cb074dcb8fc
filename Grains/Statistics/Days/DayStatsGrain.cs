using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Serialization.Invocation;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Streams;
using OrderFlow.Grains.Projections;

namespace OrderFlow.Grains.Statistics.Days;

/// <summary>
/// Counts a day's events of one shard into minute buckets. Writes behind (<see cref="WriteBehindProjectionGrain"/>):
/// each flush persists the day and pushes its rollup and new product sales to its <see cref="MonthStatsGrain"/>.
/// </summary>
/// <remarks>
/// <para>
/// Products reach the month as increments (a month keeps one total per product, not a copy per
/// day), so each increment must land exactly once although persisting the day and pushing to the
/// month are two writes and a silo can die between them. The increment is recorded as
/// <see cref="DayStatsState.Pending"/> in the same write as the revision it belongs to; before
/// making another, the day asks its month which revision it holds: the pending one (it landed),
/// or the one before (it did not, not whole, or is still on its way: the same push is sent again).
/// The month adds no increment of a revision it already holds, so a late copy of a push adds
/// nothing twice (it may only complete the push's rollup, if that alone had not landed).
/// </para>
/// <para>
/// The state grows with the day's events (one <see cref="CountedEvents"/> entry of about 21 bytes
/// per order, latency bins per minute): 18,000 orders of 4 events fit, tested in
/// <c>ProjectionCapacityTests</c>.
/// </para>
/// </remarks>
[GrainType(ProjectionGrainTypes.Day)]
[MayInterleave(nameof(MayInterleave))]
public sealed class DayStatsGrain(
    [PersistentState("day", StatisticsOptions.StorageName)] IPersistentState<DayStatsState> state,
    IOptions<StatisticsOptions> options,
    UnflushedProjections unflushed,
    ILogger<DayStatsGrain> logger) : WriteBehindProjectionGrain(unflushed, options, logger), IDayStatsGrain
{
    /// <summary>Counts every order event, in the day of its event time on its order's shard.</summary>
    public static readonly ProjectionDefinition Projection = ProjectionDefinition.Of(ProjectionGrainTypes.Day)
        .ConsumesAll(EventCategories.Orders, StatisticsKeys.DayOf)
        .DescribedAs(key => $"day {StatisticsKeys.ParseSharded(key).Remainder} of shard {StatisticsKeys.ParseSharded(key).Shard} (generation {StatisticsKeys.GenerationOf(key)})");

    /// <summary>Counted since the last push to the month was made.</summary>
    private bool counted;

    /// <summary>Counted since the month last got this day as counted (<see cref="IMonthStatsGrain.SetLiveDay"/>, or a push).</summary>
    private bool monthBehind;

    /// <summary>
    /// <see cref="DayStatsState.Pending"/> is in storage. A push is sent only once it is: a push
    /// landed in the month whose day then lost its memory of it (the write had failed, and the
    /// silo died) would leave the two out of step, and its events counted again.
    /// </summary>
    private bool pendingStored;

    /// <summary>
    /// The rollup this activation made with <see cref="DayStatsState.Pending"/>, sent again with it:
    /// one made again later would count sales whose products the push lacks. Null after a reactivation (made again then).
    /// </summary>
    private DayRollup? pendingRollup;

    /// <summary>
    /// The day and its month disagree on what the month holds (storage lost a write of one of
    /// them): no push can bring them back in step, so none is made; the day keeps its own state,
    /// and the repair it asks for replaces the whole generation with one derived from the log.
    /// </summary>
    private string? outOfStep;

    private bool repairRequested;

    private int generation;
    private int shard;
    private DateOnly day;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (generation, shard, var rest) = StatisticsKeys.ParseSharded(this.GetPrimaryKeyString());
        day = DateOnly.ParseExact(rest, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await base.OnActivateAsync(cancellationToken);
        if (state.State.Pending is not null)
        {
            pendingStored = true;
            Changed(); // the last push may not have landed
        }

        if (state.State.UnpushedProducts.Count > 0)
        {
            // Stored with a push (the one pending, or landed since) but not pushed themselves: no
            // event counted again brings them back, so the next flush makes their push.
            counted = true;
            Changed();
        }
    }

    protected override bool Count(OrderEventEnvelope envelope)
    {
        if (!state.State.Count(envelope, day))
        {
            return false;
        }

        counted = true;
        monthBehind = true;
        Changed();
        return true;
    }

    /// <summary>
    /// Live batches and queries run while a flush awaits storage (<see cref="WriteBehindProjectionGrain"/>'s
    /// remarks): <see cref="PersistAsync"/> takes the push it writes before its first await, and
    /// anything counted after that goes with the next push.
    /// </summary>
    public static bool MayInterleave(IInvokable request) =>
        IsLiveBatch(request) || request.GetMethodName() is nameof(GetMinutes) or nameof(GetMinutesTotal);

    public Task<Dictionary<int, StatsBucket>> GetMinutes(int fromMinute, int toMinute) =>
        Task.FromResult(MinutesWithin(fromMinute, toMinute).ToDictionary(pair => pair.Key, pair => pair.Value));

    /// <summary>A new bucket, never changed once answered: it goes without a copy.</summary>
    public Task<Immutable<StatsBucket>> GetMinutesTotal(int fromMinute, int toMinute) =>
        Task.FromResult(StatsBucket.MergeAll(MinutesWithin(fromMinute, toMinute).Select(pair => pair.Value)).AsImmutable());

    private IEnumerable<KeyValuePair<int, StatsBucket>> MinutesWithin(int fromMinute, int toMinute) =>
        state.State.Minutes.Where(pair => pair.Key >= fromMinute && pair.Key < toMinute);

    /// <summary>
    /// Sends the month the day as counted, so that queries over whole days and product sales see a
    /// batch before the next flush. The month keeps whichever copy of the day holds more events
    /// (<see cref="DayRollup.EventCount"/>), so this and the flush's push may reach it in any order.
    /// </summary>
    protected override async Task AfterBatchAsync()
    {
        if (!monthBehind || outOfStep is not null)
        {
            return;
        }

        monthBehind = false;
        try
        {
            await Month().SetLiveDay(day.Day, state.State.Rollup(state.State.Revision), UnlandedProducts());
        }
        catch (Exception exception)
        {
            monthBehind = true; // sent with the next batch, or the flush's push
            logger.LogDebug(exception, "Day {Day} could not send its live rollup to its month.", this.GetPrimaryKeyString());
        }
    }

    /// <summary>
    /// The product sales counted that the month may not hold yet, as increments from the revision
    /// each follows: the pending push (which may have landed or not) and what was counted since the
    /// last push was made. The month adds those that follow the revision it holds.
    /// </summary>
    private List<MonthPush> UnlandedProducts()
    {
        var s = state.State;
        var since = new Dictionary<string, ProductTotals>();
        ProductTotals.Merge(since, s.UnpushedProducts); // a copy: the day goes on counting into its own
        var counted = new MonthPush(s.Revision, s.Revision + 1, since);
        return s.Pending is { } pending ? [pending, counted] : [counted];
    }

    /// <summary>Made once: Orleans reads the grain interface's attributes for every reference it makes, and this one is asked for after every batch.</summary>
    private IMonthStatsGrain? month;

    private IMonthStatsGrain Month() => month ??= GrainFactory.GetGrain<IMonthStatsGrain>(StatisticsKeys.Month(generation, shard, day.Year, day.Month));

    protected override async Task PersistAsync(CancellationToken cancellationToken)
    {
        var s = state.State;
        if (outOfStep is not null)
        {
            await KeepOutOfStepAsync(cancellationToken);
            return;
        }

        if (s.Pending is { } pending)
        {
            if (!pendingStored)
            {
                await state.WriteOwnStateAsync(this, cancellationToken);
                pendingStored = true;
            }

            var held = await Month().RevisionOf(day.Day);
            if (held == pending.BaseRevision)
            {
                // Not landed (or not yet: a push still on its way would arrive as a repeat of this one).
                if (!await PushAsync(pendingRollup ?? s.Rollup(pending.Revision), pending.BaseRevision, pending.Products, cancellationToken))
                {
                    return;
                }
            }
            else if (held != pending.Revision)
            {
                await OutOfStepAsync(
                    $"Day {this.GetPrimaryKeyString()} pushed revision {pending.Revision} over {pending.BaseRevision}, but its month holds revision {held}.",
                    cancellationToken);
                return;
            }

            s.MonthRevision = pending.Revision;
            s.Pending = null;
            pendingRollup = null;
        }

        if (!counted)
        {
            return; // the last push had landed and nothing was counted since
        }

        var push = new MonthPush(s.MonthRevision, s.Revision + 1, s.UnpushedProducts);
        s.Revision = push.Revision;
        s.Pending = push;
        s.UnpushedProducts = [];
        pendingStored = false;
        counted = false; // before the write: what live batches count while it is under way goes with the next push

        // In the same turn as its products: a rollup taken after the write would count a sale
        // whose product the push lacks, and the month would leave out the live copy that has it.
        var rollup = pendingRollup = s.Rollup(push.Revision);
        await state.WriteOwnStateAsync(this, cancellationToken);
        pendingStored = true;

        if (!await PushAsync(rollup, push.BaseRevision, push.Products, cancellationToken))
        {
            return;
        }

        s.MonthRevision = push.Revision;
        s.Pending = null; // persisted with the next write; until then a reactivation asks the month
        pendingRollup = null;
    }

    /// <summary>Sends a push to the month; false when the month says the two are out of step (see <see cref="outOfStep"/>).</summary>
    private async Task<bool> PushAsync(DayRollup rollup, long baseRevision, Dictionary<string, ProductTotals> products, CancellationToken cancellationToken)
    {
        try
        {
            await Month().SetDay(day.Day, rollup, baseRevision, products);
            return true;
        }
        catch (MonthOutOfStepException outOfStepMonth)
        {
            await OutOfStepAsync(outOfStepMonth.Message, cancellationToken);
            return false;
        }
    }

    /// <summary>Said once per activation; the day stops pushing and asks for the generation to be re-derived from the log.</summary>
    private async Task OutOfStepAsync(string reason, CancellationToken cancellationToken)
    {
        outOfStep = reason;
        logger.LogError("{Reason} The day stops pushing to its month; the projections are re-derived from the event log.", reason);
        await KeepOutOfStepAsync(cancellationToken);
    }

    private async Task KeepOutOfStepAsync(CancellationToken cancellationToken)
    {
        await state.WriteOwnStateAsync(this, cancellationToken);
        if (!repairRequested)
        {
            // Until it is accepted, asked again at every flush (a failure is logged as a failed flush).
            await GrainFactory.GetGrain<IProjectionControl>(0).RequestRepair(outOfStep!);
            repairRequested = true;
        }
    }
}
