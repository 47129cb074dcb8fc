using System.Collections.Concurrent;
using Azure;
using Orleans.Storage;

namespace OrderFlow.Benchmarks;

/// <summary>
/// The peers' grain storage (<see cref="PeerProviders.GrainStorage"/>): Azure table grain storage
/// that, once a grain's state has outgrown its entity, refuses every later read and write of that
/// grain at once, without sending anything.
/// </summary>
/// <remarks>
/// A <see cref="Orleans.EventSourcing.JournaledGrain{TState, TEvent}"/> whose write fails keeps
/// retrying it in the background, for as long as the silo runs, and reads its state back after each
/// failed write; that read succeeds and resets the retry back-off, so the retries never slow down.
/// A peer whose state no longer fits would thus write and read some 1 MiB a few times a second for
/// the rest of the benchmark, busying this process and Azurite in every scenario after the history,
/// the rebuild's figures among them. Its state
/// only grows, so it can never be written again: refusing it changes nothing the history scenario
/// measures (the peer failed at the same length), and refused reads back off.
/// </remarks>
public sealed class PeerGrainStorage(IGrainStorage tables) : IGrainStorage
{
    private readonly ConcurrentDictionary<GrainId, Exception> outgrown = new();

    /// <summary>Grains whose state outgrew its entity: refused from then on.</summary>
    public IReadOnlyCollection<GrainId> Outgrown => [.. outgrown.Keys];

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Refusal(grainId) ?? tables.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Refusal(grainId) ?? WriteThroughAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Refusal(grainId) ?? tables.ClearStateAsync(stateName, grainId, grainState);

    private async Task WriteThroughAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await tables.WriteStateAsync(stateName, grainId, grainState);
        }
        catch (Exception exception) when (IsTooLarge(exception))
        {
            outgrown.TryAdd(grainId, exception);
            throw;
        }
    }

    private Task? Refusal(GrainId grainId) =>
        outgrown.TryGetValue(grainId, out var cause)
            ? Task.FromException(new InvalidOperationException($"The state of {grainId} outgrew its entity; it is no longer read or written.", cause))
            : null;

    /// <summary>Refused for its size: by the storage (an entity over 1 MiB), or by Orleans' provider before sending (over its properties' capacity).</summary>
    private static bool IsTooLarge(Exception exception) =>
        exception switch
        {
            RequestFailedException { ErrorCode: "EntityTooLarge" or "RequestBodyTooLarge" } => true,
            ArgumentOutOfRangeException { ParamName: "GrainState.Size" } => true,
            AggregateException aggregate => aggregate.InnerExceptions.Any(IsTooLarge),
            { InnerException: { } inner } => IsTooLarge(inner),
            _ => false,
        };
}
