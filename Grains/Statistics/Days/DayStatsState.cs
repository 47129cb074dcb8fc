using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Grains.Statistics.Months;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Grains.Statistics.Days;

[GenerateSerializer, Alias("orderflow.day-stats-state.v2")]
public sealed class DayStatsState : IJournaledProjectionState
{
    /// <summary>Made on first use: a deserializer need not run the constructor.</summary>
    [NonSerialized]
    private PendingJournal? journal;

    private PendingJournal Journal => journal ??= new();

    /// <summary>The rollup of <see cref="Minutes"/>, made on first use and kept by every count after it (see <see cref="Rollup"/>).</summary>
    [NonSerialized]
    private RunningDayRollup? rollup;

    [NonSerialized]
    private Dictionary<int, StatsBucket> minutes = [];

    /// <summary>Minute of day → bucket; only minutes with events.</summary>
    [Id(0)]
    public Dictionary<int, StatsBucket> Minutes
    {
        get => minutes;
        set
        {
            minutes = value;
            rollup = null; // made again from the minutes that replace these
        }
    }

    [Id(1)] public CountedEvents Counted { get; set; } = new();

    /// <summary>Incremented by every push to the month; the month's rollup carries the revision it was made from.</summary>
    [Id(2)] public long Revision { get; set; }

    /// <summary>The revision of this day the month is known to hold.</summary>
    [Id(3)] public long MonthRevision { get; set; }

    /// <summary>SKU → sales of orders paid this day, counted since the last push to the month was made.</summary>
    [Id(4)] public Dictionary<string, ProductTotals> UnpushedProducts { get; set; } = [];

    /// <summary>A push to the month that may or may not have landed; resolved before the next one.</summary>
    [Id(5)] public MonthPush? Pending { get; set; }

    /// <summary>Counts an event of <paramref name="day"/> unless it was counted before; true when it was counted now.</summary>
    public bool Count(OrderEventEnvelope envelope, DateOnly day)
    {
        if (!CountOnce(envelope, day))
        {
            return false;
        }

        Journal.Counted(envelope);
        return true;
    }

    private bool CountOnce(OrderEventEnvelope envelope, DateOnly day)
    {
        if (!Counted.TryMark(envelope.OrderId, envelope.Version))
        {
            return false;
        }

        var minute = (int)(envelope.OccurredAt.UtcDateTime - day.ToDateTime(TimeOnly.MinValue)).TotalMinutes;
        if (!Minutes.TryGetValue(minute, out var bucket))
        {
            Minutes[minute] = bucket = new StatsBucket();
        }

        bucket.Add(envelope);
        rollup?.Add(minute, envelope);
        if (envelope.Type == OrderPaid.StoredName)
        {
            ProductTotals.AddPaid(UnpushedProducts, envelope);
        }

        return true;
    }

    /// <summary>The day's rollup for its month (<see cref="DayRollup.Of"/> of <see cref="Minutes"/>), made from <paramref name="revision"/>.</summary>
    public DayRollup Rollup(long revision) => (rollup ??= RunningDayRollup.Of(Minutes)).At(revision);

    public ProjectionJournalEntry TakeChanges(DateTimeOffset now) =>
        Journal.Take(now, new DayPushes(Revision, MonthRevision, UnpushedProducts, Pending));

    public void ReturnChanges(ProjectionJournalEntry changes) => Journal.Return(changes);

    public void Apply(ProjectionJournalEntry entry)
    {
        foreach (var envelope in entry.OrderEvents)
        {
            CountOnce(envelope, DateOnly.FromDateTime(envelope.OccurredAt.UtcDateTime));
        }

        if (entry.Side is DayPushes pushes)
        {
            (Revision, MonthRevision, UnpushedProducts, Pending) = (pushes.Revision, pushes.MonthRevision, pushes.UnpushedProducts, pushes.Pending);
        }
    }
}
