using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrderFlow.Grains.Telemetry;

/// <summary>
/// The system's own telemetry: one activity source and one meter, both named <see cref="Name"/>,
/// and every instrument of that meter. Silos and the API register these names with OpenTelemetry
/// (<c>Silo/OrderFlowOpenTelemetry.cs</c>); README "Telemetry" lists them.
/// </summary>
public static class OrderFlowTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "OrderFlow";

    /// <summary>Span of a command's publication of its events (a producer): its context travels in each envelope.</summary>
    public const string PublishActivity = "orderflow.publish";

    /// <summary>Span of a stream delivery counted by the projections (a consumer), a child of <see cref="PublishActivity"/>.</summary>
    public const string ProjectActivity = "orderflow.project";

    public const string CommandsCounter = "orderflow.commands";
    public const string AppendDurationHistogram = "orderflow.event_store.append.duration";
    public const string EventsPublishedCounter = "orderflow.events.published";
    public const string ProjectionLagHistogram = "orderflow.projection.lag";
    public const string ReconciliationEventsCounter = "orderflow.reconciliation.events";
    public const string ReconciliationRepairsCounter = "orderflow.reconciliation.repairs";
    public const string RebuildEventsCounter = "orderflow.rebuild.events";
    public const string SnapshotsPassedOverCounter = "orderflow.event_store.snapshots.passed_over";
    public const string ProjectionSnapshotSizeHistogram = "orderflow.projection.snapshot.size";

    /// <summary>Tag: the command's type (<c>PlaceOrder</c>…).</summary>
    public const string CommandTypeTag = "orderflow.command.type";

    /// <summary>Tag: <c>applied</c>, <c>replayed</c>, a refusal's code in lower case (<c>invalidtransition</c>…), <c>unavailable</c> or <c>failed</c>.</summary>
    public const string CommandOutcomeTag = "orderflow.command.outcome";

    /// <summary>Tag: the event's type (<c>OrderPlaced</c>…).</summary>
    public const string EventTypeTag = "orderflow.event.type";

    /// <summary>Tag: a snapshot's stored type and schema version (<c>OrderState/3</c>).</summary>
    public const string SnapshotKindTag = "orderflow.snapshot.kind";

    /// <summary>Tag: <c>success</c>, <c>conflict</c> or <c>failed</c> (an append's outcome).</summary>
    public const string AppendOutcomeTag = "orderflow.append.outcome";

    /// <summary>Tag: a projection grain's type (<c>daystats</c>, <c>customerstats</c>, <c>stuckorders</c>).</summary>
    public const string ProjectionGrainTag = "orderflow.projection.grain";

    /// <summary>Tag: <c>regular</c> (the periodic pass over settled changes) or <c>catch-up</c> (after a silo died).</summary>
    public const string ReconciliationPassTag = "orderflow.reconciliation.pass";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Seconds from a few milliseconds to a minute: the defaults of OpenTelemetry are meant for milliseconds.</summary>
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    public static readonly Counter<long> Commands = Meter.CreateCounter<long>(
        CommandsCounter, "{command}", "Commands handled by order and customer grains, by type and outcome.");

    public static readonly Histogram<double> AppendDuration = Meter.CreateHistogram(
        AppendDurationHistogram, "s", "Time of one append to the event log (one table transaction, with its retries).", advice: SecondsBuckets);

    public static readonly Counter<long> EventsPublished = Meter.CreateCounter<long>(
        EventsPublishedCounter, "{event}", "Confirmed events published to the order-event and customer-event streams.");

    public static readonly Histogram<double> ProjectionLag = Meter.CreateHistogram(
        ProjectionLagHistogram, "s", "From an event's recording in the log to its counting by the projections fed from the stream.", advice: SecondsBuckets);

    /// <summary>Bytes from 64 KiB to the most a journaled state may take (7.5 MiB): where a projection's envelope is read.</summary>
    private static readonly InstrumentAdvice<long> SnapshotSizeBuckets = new()
    {
        HistogramBucketBoundaries = [65_536, 262_144, 655_360, 1_048_576, 2_097_152, 4_194_304, 5_898_240, 7_864_320],
    };

    public static readonly Histogram<long> ProjectionSnapshotSize = Meter.CreateHistogram(
        ProjectionSnapshotSizeHistogram, "By",
        "The serialized state of each projection snapshot written (days, customers, stuck-order partitions), by grain type: a state nearing 7.5 MiB nears the most one may take (README \"Capacity\").",
        advice: SnapshotSizeBuckets);

    public static readonly Counter<long> ReconciliationEvents = Meter.CreateCounter<long>(
        ReconciliationEventsCounter, "{event}",
        "Events the reconciliation read back from the log and fed to the projections (each projection counts an event once, so feeding an event counted already changes nothing).");

    public static readonly Counter<long> ReconciliationRepairs = Meter.CreateCounter<long>(
        ReconciliationRepairsCounter, "{event}",
        "Events the reconciliation fed that some projection had not counted yet: what the stream lost or a projection lost before its flush.");

    public static readonly Counter<long> RebuildEvents = Meter.CreateCounter<long>(
        RebuildEventsCounter, "{event}", "Events a projection rebuild has projected into its new generation (its progress).");

    public static readonly Counter<long> SnapshotsPassedOver = Meter.CreateCounter<long>(
        SnapshotsPassedOverCounter, "{snapshot}",
        "Snapshots a load passed over because this build cannot read their schema (a later build's, after a rollback): each costs a fold of the events it covers.");

    /// <summary>The W3C <c>traceparent</c> of <paramref name="activity"/>, to carry in an envelope; null without one.</summary>
    public static string? TraceParentOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;

    /// <summary>
    /// Starts the span of the projections counting one event of <paramref name="category"/> (stream
    /// <paramref name="streamId"/>, <paramref name="version"/>), in the trace of the command that
    /// published it (the envelope's <paramref name="traceParent"/>), wherever and whenever it runs;
    /// the delivery's own trace, if any, is linked. Tagged <c>orderflow.{category}.id</c> and
    /// <c>.version</c>, as the publication is. Null when nobody listens.
    /// </summary>
    public static Activity? StartProjection(string category, string streamId, int version, string type, string? traceParent)
    {
        var traced = ActivityContext.TryParse(traceParent, null, isRemote: true, out var published);
        var links = traced && Activity.Current is { } delivery && delivery.TraceId != published.TraceId
            ? new[] { new ActivityLink(delivery.Context) }
            : null;
        var activity = ActivitySource.StartActivity(ProjectActivity, ActivityKind.Consumer, published, links: links);
        activity?.SetTag("orderflow." + category + ".id", streamId);
        activity?.SetTag("orderflow." + category + ".version", version);
        activity?.SetTag(EventTypeTag, type);
        return activity;
    }
}
