using OrderFlow.Grains.Statistics;

namespace OrderFlow.Grains.Projections.Feed;

/// <summary>
/// Feeds envelopes of one stream category read from the log (by a rebuild or a reconciliation) to
/// the projections that consume them (<see cref="ProjectionRegistry"/>), in batches: envelopes are
/// gathered per projection grain and sent with
/// <see cref="IProjectionInput{TEnvelope}.IngestAndPersist"/> once <see cref="BatchSize"/> are
/// buffered, and at <see cref="CompleteAsync"/>. One batch is sent at a time, while the caller
/// gathers the next (the reader of the log does not wait for the projections' writes). When
/// <see cref="CompleteAsync"/> returns, everything is durably counted, except what the grains in
/// <see cref="Failures"/> were sent and the events in <see cref="Uncounted"/> (with the rest of their
/// streams): a grain that fails fails only its own envelopes, so that one bad projection key does
/// not hold up the others (in every generation it is sent to), and an event a grain cannot count
/// fails only itself. When every grain
/// of a send fails and they are more than one key (storage is down), the next <see cref="AddAsync"/> or <see cref="CompleteAsync"/> throws. Used from
/// within one grain call; not thread-safe.
/// </summary>
/// <param name="watched">Keys (parked ones) whose successful sends are reported in <see cref="Succeeded"/>.</param>
internal sealed class ProjectionFeed<TEnvelope>(IGrainFactory grains, EventCategory<TEnvelope> category, IReadOnlySet<string>? watched = null)
{
    /// <summary>Envelope-projections buffered before they are sent: bounds memory and the grains one send touches.</summary>
    public const int BatchSize = 2_000;

    /// <summary>Projection grains sent to at once.</summary>
    private const int Parallelism = 32;

    private Dictionary<string, Target> pending = new(StringComparer.Ordinal);
    private List<(TEnvelope Envelope, int Generation)> buffered = [];

    /// <summary>The batch on its way: the next waits for it.</summary>
    private Task sending = Task.CompletedTask;
    private readonly Dictionary<string, ProjectionFailure> failures = new(StringComparer.Ordinal);
    private readonly HashSet<string> succeeded = new(StringComparer.Ordinal);
    private readonly Dictionary<(string StreamId, int Version), string> uncounted = [];

    /// <summary>Envelopes durably counted by every projection of their generation (one per envelope and generation).</summary>
    public long Persisted { get; private set; }

    /// <summary>
    /// Envelopes that some projection of their generation had not counted before this feed (one
    /// per envelope and generation): what the stream or a lost flush had missed, the true repairs.
    /// </summary>
    public long Repaired { get; private set; }

    /// <summary>Projection grains that failed, by key, with every stream they were sent in any batch.</summary>
    public IReadOnlyCollection<ProjectionFailure> Failures => failures.Values;

    /// <summary>
    /// Events a projection grain could not count while it counted the rest it was sent (its count
    /// threw: a bad record, or a projection's bug), with why; the later events of their streams
    /// were not counted by that grain either. To be parked as the events they are, not as the grain.
    /// </summary>
    public IEnumerable<(string StreamId, int Version, string Reason)> Uncounted =>
        uncounted.Select(u => (u.Key.StreamId, u.Key.Version, u.Value));

    /// <summary>Streams of which some envelope was not durably counted by some projection.</summary>
    public IEnumerable<string> FailedStreams =>
        failures.Values.SelectMany(f => f.Streams.Keys).Concat(uncounted.Keys.Select(u => u.StreamId)).Distinct(StringComparer.Ordinal);

    /// <summary>Watched keys that took every send and never failed.</summary>
    public IEnumerable<string> Succeeded => succeeded.Where(key => !failures.ContainsKey(key));

    /// <summary>Adds the envelope for every projection of <paramref name="generation"/>; returns true when that completed a batch, which is on its way.</summary>
    public async Task<bool> AddAsync(TEnvelope envelope, int generation)
    {
        foreach (var (key, grain) in ProjectionRegistry.TargetsOf(grains, envelope, generation))
        {
            if (!pending.TryGetValue(key, out var target))
            {
                pending[key] = target = new Target(key, grain, []);
            }

            target.Envelopes.Add(envelope);
        }

        buffered.Add((envelope, generation));
        if (buffered.Count < BatchSize)
        {
            return false;
        }

        await StartSendingAsync();
        return true;
    }

    /// <summary>Sends what is buffered, and waits until every batch has been sent.</summary>
    public async Task CompleteAsync()
    {
        await StartSendingAsync();
        await sending;
    }

    /// <summary>Once the batch on its way has been sent, sends what is buffered, without waiting for it.</summary>
    private async Task StartSendingAsync()
    {
        await sending;
        sending = SendAsync(pending, buffered);
        pending = new(StringComparer.Ordinal);
        buffered = [];
    }

    private async Task SendAsync(Dictionary<string, Target> targets, List<(TEnvelope Envelope, int Generation)> batch)
    {
        var failed = new List<(Target Target, Exception Error)>();
        var refused = new List<(Target Target, IngestOutcome Outcome)>();
        // Per batch: every projection of an envelope's generation is sent it in the same batch, and
        // a set kept for the feed's life grew with all a rebuild read.
        var repaired = new HashSet<(string StreamId, int Version, int Generation)>();
        foreach (var chunk in targets.Values.Chunk(Parallelism))
        {
            var sends = chunk.Select(async target =>
            {
                try
                {
                    return (Outcome: await target.Grain.IngestAndPersist(target.Envelopes), Error: (Exception?)null);
                }
                catch (Exception exception)
                {
                    return (Outcome: (IngestOutcome?)null, Error: exception);
                }
            }).ToList();
            var answers = await Task.WhenAll(sends);
            foreach (var (target, (outcome, error)) in chunk.Zip(answers))
            {
                if (error is not null)
                {
                    failed.Add((target, error));
                    continue;
                }

                var generation = StatisticsKeys.GenerationOf(target.Grain.GetPrimaryKeyString());
                foreach (var position in outcome!.Counted)
                {
                    var (streamId, version) = category.IdentityOf(target.Envelopes[position]);
                    repaired.Add((streamId, version, generation));
                }

                if (outcome.Failed.Length > 0)
                {
                    refused.Add((target, outcome));
                }
            }
        }

        Repaired += repaired.Count;

        // One bad key fails its grain in every generation a rebuild feeds: only failures of more than
        // one key, and of every grain, say that nothing could be counted.
        if (failed.Count == targets.Count && failed.Select(f => WithoutGeneration(f.Target.Key)).Distinct(StringComparer.Ordinal).Skip(1).Any())
        {
            // Not one bad key: nothing could be counted (storage is down). Nothing is parked; the caller fails.
            throw new AggregateException($"Every one of the {failed.Count} projection grains of the batch failed.", failed.Select(f => f.Error));
        }

        var failedEnvelopes = new HashSet<(string StreamId, int Version, int Generation)>();
        foreach (var (target, error) in failed)
        {
            Fail(target, error, target.Envelopes, failedEnvelopes);
        }

        foreach (var (target, outcome) in refused)
        {
            // The grain counted the rest: these events are parked on their own, and the key is not held responsible for them.
            var generation = StatisticsKeys.GenerationOf(target.Grain.GetPrimaryKeyString());
            var first = new Dictionary<string, (int Version, int Position)>(StringComparer.Ordinal);
            foreach (var position in outcome.Failed)
            {
                var (streamId, version) = category.IdentityOf(target.Envelopes[position]);
                failedEnvelopes.Add((streamId, version, generation));
                if (!first.TryGetValue(streamId, out var earliest) || version < earliest.Version)
                {
                    first[streamId] = (version, position);
                }
            }

            // Each stream from its first failed event (the rest of it was left uncounted with it).
            foreach (var (streamId, (version, position)) in first)
            {
                uncounted.TryAdd((streamId, version), outcome.Reasons?.GetValueOrDefault(position) ?? $"{target.Key} could not count it.");
            }
        }

        if (watched is not null)
        {
            succeeded.UnionWith(targets.Keys.Where(watched.Contains).Except(failed.Select(f => f.Target.Key)));
        }

        Persisted += batch.Count(b => category.IdentityOf(b.Envelope) is var (streamId, version) && !failedEnvelopes.Contains((streamId, version, b.Generation)));
    }

    /// <summary>Records that <paramref name="target"/> did not count <paramref name="envelopes"/>: their streams are retried from the lowest version it was sent.</summary>
    private void Fail(Target target, Exception error, IEnumerable<TEnvelope> envelopes, HashSet<(string StreamId, int Version, int Generation)> failedEnvelopes)
    {
        if (!failures.TryGetValue(target.Key, out var failure))
        {
            failures[target.Key] = failure = new ProjectionFailure(target.Key, error, new Dictionary<string, int>(StringComparer.Ordinal));
        }

        var generation = StatisticsKeys.GenerationOf(target.Grain.GetPrimaryKeyString());
        foreach (var (streamId, version) in envelopes.Select(category.IdentityOf))
        {
            failure.Streams[streamId] = failure.Streams.TryGetValue(streamId, out var from) ? Math.Min(from, version) : version;
            failedEnvelopes.Add((streamId, version, generation));
        }
    }

    private sealed record Target(string Key, IProjectionInput<TEnvelope> Grain, List<TEnvelope> Envelopes);

    /// <summary>A projection grain's key without its generation ("customerstats/2/c-7": "customerstats/c-7").</summary>
    private static string WithoutGeneration(string key) => key[..key.IndexOf('/')] + "/" + StatisticsKeys.AfterGeneration(StatisticsKeys.AfterGeneration(key));
}
