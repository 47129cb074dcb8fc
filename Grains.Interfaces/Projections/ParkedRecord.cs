namespace OrderFlow.Projections;

/// <summary>What was parked: a projection grain, an order whose log cannot be read back, one unreadable event of an order, or a customer whose log cannot be read back.</summary>
[GenerateSerializer, Alias("orderflow.parked-kind")]
public enum ParkedKind
{
    Projection = 1,
    Order,
    Event,
    Customer,
}

/// <summary>
/// A record that failed over and over and was set aside so that it does not hold up the others;
/// it is retried with back-off until it succeeds, and then removed.
/// </summary>
/// <param name="Key">
/// Projection: its grain id (<c>customerstats/2/customer-7</c>; ids in keys are encoded, see
/// <see cref="Subject"/>). Order: the order id. Event: the order id and the version, <c>order-1#3</c>.
/// Customer: the customer id (a customer is parked whole, whichever of its events failed).
/// </param>
/// <param name="Subject">What the key stands for, in plain words, with any id decoded.</param>
/// <param name="Reason">The last failure.</param>
/// <param name="Attempts">Failures so far.</param>
/// <param name="NextRetry">When it is tried again (the earliest; a retry runs with the next reconciliation pass after it).</param>
[GenerateSerializer, Immutable, Alias("orderflow.parked-record")]
public sealed record ParkedRecord(
    [property: Id(0)] ParkedKind Kind,
    [property: Id(1)] string Key,
    [property: Id(2)] string Subject,
    [property: Id(3)] string Reason,
    [property: Id(4)] DateTimeOffset FirstFailure,
    [property: Id(5)] DateTimeOffset LastFailure,
    [property: Id(6)] int Attempts,
    [property: Id(7)] DateTimeOffset NextRetry);

/// <summary>GET /api/admin/parked.</summary>
/// <param name="Count">Records listed.</param>
/// <param name="NotListed">Failures that found the list full (it is bounded) since it was last empty: retried all the same, but not listed.</param>
[GenerateSerializer, Immutable, Alias("orderflow.parked-records")]
public sealed record ParkedRecords(
    [property: Id(0)] int Count,
    [property: Id(1)] long NotListed,
    [property: Id(2)] IReadOnlyList<ParkedRecord> Records);

/// <summary>The list of parked records (key: 0).</summary>
[Alias("orderflow.parked")]
public interface IParkedRecordsGrain : IGrainWithIntegerKey
{
    /// <summary>Everything parked, oldest first failure first.</summary>
    [Alias("list")]
    Task<ParkedRecords> List();
}
