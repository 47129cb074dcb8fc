using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Projections.WriteBehind;
using OrderFlow.Grains.Statistics;
using OrderFlow.Projections;

namespace OrderFlow.Grains.Projections.Parking;

/// <summary>
/// The durable list of parked records: one bad record must never stop the processing of the
/// others, so a projection key, an order, an order's event or a customer that keeps failing is set
/// aside here, logged once (when parked, and when it recovers; not at every retry), shown by GET
/// /api/admin/parked and by /health/ready as Degraded, and retried with back-off by whoever parked
/// it (the reconciliation re-announces parked orders and customers in the change index for the time of their retry; a
/// live projection retries its own flush). Bounded by <see cref="MaxRecords"/>, so that its state
/// stays one table entity; beyond it, failures are counted (and still retried) but not listed.
/// </summary>
[GrainType("parkedrecords")]
public sealed class ParkedRecordsGrain(
    [PersistentState("parked", StatisticsOptions.StorageName)] IPersistentState<ParkedState> state,
    IOptions<ParkingOptions> options,
    TimeProvider time,
    ILogger<ParkedRecordsGrain> logger) : Grain, IParking, IParkedRecordsGrain
{
    /// <summary>Records listed: about 400 bytes each at most (64-character ids, reasons cut to <see cref="MaxReasonLength"/>), well within one entity.</summary>
    public const int MaxRecords = 1_000;

    public const int MaxReasonLength = 300;

    public static string IdOf(ParkedKind kind, string key) => $"{kind}:{key}";

    /// <summary>The key of a parked event: its order id and version.</summary>
    public static string EventKey(string orderId, int version) => FormattableString.Invariant($"{orderId}#{version}");

    public async Task<IReadOnlyList<DateTimeOffset>> Park(IReadOnlyList<ParkRequest> requests)
    {
        var now = time.GetUtcNow();
        var retries = new List<DateTimeOffset>(requests.Count);
        var (records, notListed) = (new Dictionary<string, ParkedRecord>(state.State.Records, StringComparer.Ordinal), state.State.NotListed);
        foreach (var request in requests)
        {
            var reason = request.Reason.Length > MaxReasonLength ? request.Reason[..MaxReasonLength] + "…" : request.Reason;
            var id = IdOf(request.Kind, request.Key);
            var attempts = state.State.Records.TryGetValue(id, out var parked) ? parked.Attempts + 1 : 1;
            var backoff = options.Value.Backoff(attempts);
            var next = now + (backoff > request.MinimumDelay ? backoff : request.MinimumDelay);
            retries.Add(next);
            if (parked is not null)
            {
                state.State.Records[id] = parked with { Reason = reason, LastFailure = now, Attempts = attempts, NextRetry = next };
                logger.LogDebug("Parked {Kind} {Key} failed again (attempt {Attempts}); next retry at {NextRetry}.", request.Kind, request.Key, attempts, next);
            }
            else if (state.State.Records.Count < MaxRecords)
            {
                state.State.Records[id] = new ParkedRecord(request.Kind, request.Key, request.Subject, reason, now, now, 1, next);
                logger.LogError(
                    "Parked {Kind} {Key} ({Subject}): {Reason} It no longer holds up the others; retried with back-off from {NextRetry}. See GET /api/admin/parked.",
                    request.Kind, request.Key, request.Subject, reason, next);
            }
            else
            {
                if (state.State.NotListed++ == 0)
                {
                    logger.LogError("The parked list is full ({Max} records): further failures are retried but not listed, starting with {Kind} {Key}: {Reason}", MaxRecords, request.Kind, request.Key, reason);
                }
            }
        }

        await WriteOrRestoreAsync(records, notListed);
        return retries;
    }

    public async Task Resolve(ParkedKind kind, IReadOnlyList<string> keys)
    {
        var (records, notListed) = (new Dictionary<string, ParkedRecord>(state.State.Records, StringComparer.Ordinal), state.State.NotListed);
        var removed = new List<ParkedRecord>();
        foreach (var key in keys)
        {
            if (state.State.Records.Remove(IdOf(kind, key), out var record))
            {
                removed.Add(record);
            }

            if (kind == ParkedKind.Order)
            {
                var prefix = IdOf(ParkedKind.Event, key + "#");
                foreach (var id in state.State.Records.Keys.Where(id => id.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                {
                    state.State.Records.Remove(id, out var parkedEvent);
                    removed.Add(parkedEvent!);
                }
            }
        }

        if (removed.Count == 0)
        {
            return;
        }

        if (state.State.Records.Count == 0)
        {
            state.State.NotListed = 0;
        }

        await WriteOrRestoreAsync(records, notListed);
        foreach (var record in removed)
        {
            logger.LogInformation("Unparked {Kind} {Key} ({Subject}) after {Attempts} failed attempts since {FirstFailure}: it succeeded (or, a projection of a replaced generation, is no longer fed).",
                record.Kind, record.Key, record.Subject, record.Attempts, record.FirstFailure);
        }
    }

    public Task<ParkedRecords> List()
    {
        var records = state.State.Records.Values.OrderBy(r => r.FirstFailure).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        return Task.FromResult(new ParkedRecords(records.Count, state.State.NotListed, records));
    }

    /// <summary>
    /// Writes the list; a failed write puts back <paramref name="records"/> and <paramref name="notListed"/>
    /// as they were before the change, so that the caller's retry meets the list storage holds: a
    /// removal is not answered as done, a park is not counted twice, and nothing is listed unstored.
    /// </summary>
    private async Task WriteOrRestoreAsync(Dictionary<string, ParkedRecord> records, long notListed)
    {
        try
        {
            await state.WriteOwnStateAsync(this);
        }
        catch
        {
            state.State.Records = records;
            state.State.NotListed = notListed;
            throw;
        }
    }
}
