using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Alerts;
using OrderFlow.Statistics;
using OrderFlow.Streams;
using OrderFlow.Grains.Projections;
using Orleans.Concurrency;
using Orleans.Serialization.Invocation;

namespace OrderFlow.Grains.Statistics.Customers;

/// <summary>
/// Keeps a customer's totals and evaluates the risk rules (<see cref="RiskRules"/>). Writes behind
/// (<see cref="WriteBehindProjectionGrain"/>): the rules are evaluated once per flush (or when read), not per
/// event, and each flush sends the alerts that started or stopped standing to the
/// <see cref="AlertFeedGrain"/> before persisting, so that a crash in between sends them again
/// rather than never.
/// </summary>
/// <remarks>
/// <para>
/// Live batches and <see cref="Get"/> run while a flush awaits storage (the remarks of
/// <see cref="WriteBehindProjectionGrain"/>). A query meanwhile evaluates the rules again, so the
/// flush records as sent to the feed the alerts it sent, taken before its first await, not the
/// alerts standing when the feed answers: those that changed meanwhile go with the next flush.
/// </para>
/// <para>
/// After a batch that changed its alerts, the customer shows each day's feed its alerts of that
/// day as counted (<see cref="IAlertFeedGrain.ShowLive"/>, in memory), labelled with the events
/// counted; its next flush settles every day it showed, so that the feed drops the copies the
/// flush persists, whichever of the two arrives first.
/// </para>
/// </remarks>
[GrainType(ProjectionGrainTypes.Customer)]
[MayInterleave(nameof(MayInterleave))]
public sealed class CustomerStatsGrain(
    [PersistentState("customer", StatisticsOptions.StorageName)] IPersistentState<CustomerStatsState> state,
    IOptions<StatisticsOptions> options,
    UnflushedProjections unflushed,
    ILogger<CustomerStatsGrain> logger) : WriteBehindProjectionGrain(unflushed, options, logger), ICustomerStatsGrain
{
    /// <summary>Counts every order event and every customer event, in the grain of the customer: the join of rule new-account-large-order.</summary>
    public static readonly ProjectionDefinition Projection = ProjectionDefinition.Of(ProjectionGrainTypes.Customer)
        .ConsumesAll(EventCategories.Orders, (generation, envelope) => StatisticsKeys.Customer(generation, envelope.CustomerId))
        .ConsumesAll(EventCategories.Customers, (generation, envelope) => StatisticsKeys.Customer(generation, envelope.CustomerId))
        .DescribedAs(key => StatisticsKeys.CustomerIdOf(key) is { } customerId
            ? $"customer '{customerId}' (generation {StatisticsKeys.GenerationOf(key)})"
            : $"a customer with a long id (generation {StatisticsKeys.GenerationOf(key)})");

    private bool alertsStale;

    /// <summary><see cref="CustomerStatsState.FeedDays"/> as in memory is in storage: an alert is raised on a day only once that day is recorded there.</summary>
    private bool feedDaysStored = true;

    /// <summary>The alerts last shown live to the feed (<see cref="AfterBatchAsync"/>); null: none yet, the feed holds <see cref="CustomerStatsState.InFeed"/>.</summary>
    private Dictionary<string, RiskAlert>? shownLive;

    /// <summary>A live copy could not be shown: shown again after the next batch.</summary>
    private bool liveBehind;

    /// <summary>Days whose feed was shown a live copy that no flush has settled yet.</summary>
    private HashSet<DateOnly> liveDays = [];

    /// <summary>Events of either category counted: the label of a live copy and of a flush, which the feed compares.</summary>
    private long EventsCounted => state.State.Counted.Events + state.State.CountedCustomerEvents.Events;

    private string CustomerId => state.State.CustomerId ?? StatisticsKeys.CustomerIdOf(this.GetPrimaryKeyString()) ?? string.Empty;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);

        // The rules as configured now, over every event counted: thresholds changed since the alerts were stored apply to old orders too.
        alertsStale = true;
        RefreshAlerts();
        if (!AlertsEqual(state.State.Alerts, state.State.InFeed))
        {
            Changed(); // the feed may not have what was persisted last time
        }
    }


    /// <summary>Live batches (of either category) and the report interleave with a flush under way.</summary>
    public static bool MayInterleave(IInvokable request) =>
        IsLiveBatch(request) || request.GetMethodName() == nameof(Get);

    protected override bool Count(OrderEventEnvelope envelope) => Counted(state.State.Count(envelope));

    public Task IngestBatch(IReadOnlyList<CustomerEventEnvelope> envelopes) => CountBatchAsync(envelopes, Count, EventCategories.Customers);

    public Task<IngestOutcome> IngestAndPersist(IReadOnlyList<CustomerEventEnvelope> envelopes) =>
        CountAndPersistAsync(envelopes, Count, EventCategories.Customers);

    /// <summary>Every customer event of a registered customer carries the registration time: the first one counted completes the join of rule new-account-large-order.</summary>
    private bool Count(CustomerEventEnvelope envelope) => Counted(state.State.Count(envelope));

    private bool Counted(bool countedNow)
    {
        if (countedNow)
        {
            alertsStale = true;
            Changed();
        }

        return countedNow;
    }

    public Task<CustomerReport?> Get()
    {
        var s = state.State;
        if (s.Counted.Streams == 0 && s.Registration.RegisteredAt is null)
        {
            return Task.FromResult<CustomerReport?>(null);
        }

        RefreshAlerts();
        var rules = s.Alerts.Values.Select(a => a.Rule).Distinct().Order(StringComparer.Ordinal).ToList();
        return Task.FromResult<CustomerReport?>(new CustomerReport(
            CustomerId, s.Orders, s.Spend, s.Cancellations, s.Refunds, s.RefundedAmount, RiskRules.Score(rules), rules, s.Registration.RegisteredAt));
    }

    /// <summary>
    /// Shows the days' feeds the alerts as counted when the batch changed them: every day with an
    /// alert that differs from what the feed persisted, and every day shown a copy since the last
    /// flush (a copy replaces all of the customer's alerts of its day, so a day left out would keep
    /// showing an older one).
    /// </summary>
    protected override async Task AfterBatchAsync()
    {
        RefreshAlerts();
        var s = state.State;
        var standing = s.Alerts;
        if (!liveBehind && AlertsEqual(standing, shownLive ?? s.InFeed))
        {
            return;
        }

        var days = AlertFeedGrain.Changes(s.FeedDays, s.InFeed, standing).Keys.Union(liveDays).ToList();
        var events = EventsCounted;
        shownLive = standing;
        liveBehind = false;
        liveDays.UnionWith(days);
        try
        {
            var generation = StatisticsKeys.GenerationOf(this.GetPrimaryKeyString());
            await Task.WhenAll(days.Select(day => GrainFactory.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(generation, day))
                .ShowLive(CustomerId, events, [.. standing.Values.Where(alert => AlertFeedGrain.DayOf(alert) == day)])));
        }
        catch (Exception exception)
        {
            liveBehind = true; // shown with the next batch, or persisted by the flush
            logger.LogDebug(exception, "Customer {Grain} could not show its live alerts to the feed.", this.GetPrimaryKeyString());
        }
    }

    private void RefreshAlerts()
    {
        if (alertsStale)
        {
            state.State.Alerts = RiskRules.Evaluate(CustomerId, state.State, Settings.Risk).ToDictionary(a => a.Id, StringComparer.Ordinal);
            alertsStale = false;
        }
    }

    protected override async Task PersistAsync(CancellationToken cancellationToken)
    {
        RefreshAlerts();
        var s = state.State;
        var sending = s.Alerts;
        var events = EventsCounted;

        // The days shown live copies up to now: the flush settles them even where nothing changed.
        var settling = liveDays;
        liveDays = [];
        try
        {
            var changes = AlertFeedGrain.Changes(s.FeedDays, s.InFeed, sending);
            foreach (var day in settling)
            {
                changes.TryAdd(day, ([], []));
            }

            if (changes.Count > 0)
            {
                foreach (var (day, change) in changes)
                {
                    foreach (var alert in change.Raised)
                    {
                        if ((s.FeedDays.TryGetValue(alert.Id, out var days) ? days : s.FeedDays[alert.Id] = []).Add(day))
                        {
                            feedDaysStored = false;
                        }
                    }
                }

                if (!feedDaysStored)
                {
                    await state.WriteOwnStateAsync(this, cancellationToken); // where the alerts may be, before they are
                    feedDaysStored = true;
                }

                var generation = StatisticsKeys.GenerationOf(this.GetPrimaryKeyString());
                await Task.WhenAll(changes.Select(change => GrainFactory.GetGrain<IAlertFeedGrain>(StatisticsKeys.AlertDay(generation, change.Key))
                    .Apply(CustomerId, events, change.Value.Raised, change.Value.Withdrawn)));

                // What the feed now holds: the alerts sent, whatever a query evaluated while they were on their way.
                s.InFeed = new Dictionary<string, RiskAlert>(sending, StringComparer.Ordinal);
                s.FeedDays = sending.Values.ToDictionary(alert => alert.Id, alert => new HashSet<DateOnly> { AlertFeedGrain.DayOf(alert) }, StringComparer.Ordinal);
            }

            await state.WriteOwnStateAsync(this, cancellationToken);
        }
        catch
        {
            liveDays.UnionWith(settling); // settled by the next flush
            throw;
        }
        finally
        {
            // A query during a re-read after an ETag conflict evaluated the state object the write then discarded.
            alertsStale = true;
        }
    }

    private static bool AlertsEqual(Dictionary<string, RiskAlert> a, Dictionary<string, RiskAlert> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);
}
