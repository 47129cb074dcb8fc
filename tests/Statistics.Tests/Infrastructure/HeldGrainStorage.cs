using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Grains.Projections.Storage;
using Orleans.Runtime;
using Orleans.Storage;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>
/// The real grain storage with hooks around one grain's reads and writes: a test holds them open,
/// so that calls interleave at a chosen point of a flush, or answers a write that landed as an ETag
/// conflict (as when the answer to a write that succeeded was lost and the storage client retried),
/// or fails writes before they reach storage.
/// Registered in place of the <c>statistics</c> storage by <see cref="Register"/>.
/// </summary>
public sealed class HeldGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private IGrainStorage? inner;

    /// <summary>The grain whose reads and writes the hooks see; none until a test sets it.</summary>
    public GrainId? Target { get; set; }

    /// <summary>Runs after a read of <see cref="Target"/> has replaced its state object, before the read returns.</summary>
    public Func<Task>? AfterRead { get; set; }

    /// <summary>Runs after a write of <see cref="Target"/> landed, before it returns; true: the write is answered as an ETag conflict.</summary>
    public Func<Task<bool>>? AfterWrite { get; set; }

    /// <summary>
    /// Holds every write of <see cref="Target"/>, once landed, until <paramref name="release"/> is
    /// set; the returned task completes when the first is held.
    /// </summary>
    public Task HoldWrites(Task release)
    {
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AfterWrite = async () =>
        {
            writing.TrySetResult();
            await release;
            return false;
        };
        return writing.Task;
    }

    private int failingWrites;
    private string? failingState;

    /// <summary>
    /// The next <paramref name="writes"/> writes of <see cref="Target"/> (of its state <paramref name="stateName"/>
    /// alone, if named) fail (a timeout) without reaching storage.
    /// </summary>
    public void FailNextWrites(int writes = 1, string? stateName = null)
    {
        Volatile.Write(ref failingState, stateName);
        Volatile.Write(ref failingWrites, writes);
    }

    private IGrainStorage Inner => inner ?? throw new InvalidOperationException("Not registered.");

    /// <summary>Wraps the statistics grain storage named <paramref name="name"/> that the product registers.</summary>
    public void Register(ISiloBuilder silo, string name) =>
        silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
        {
            inner = StatisticsGrainStorage.Create(services, name);
            return this;
        });

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Inner.ReadStateAsync(stateName, grainId, grainState);
        if (grainId == Target && AfterRead is { } afterRead)
        {
            await afterRead();
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainId == Target && (Volatile.Read(ref failingState) ?? stateName) == stateName && Interlocked.Decrement(ref failingWrites) >= 0)
        {
            throw new TimeoutException($"Injected by the test: the write of {grainId} did not reach storage.");
        }

        await Inner.WriteStateAsync(stateName, grainId, grainState);
        if (grainId == Target && AfterWrite is { } afterWrite && await afterWrite())
        {
            throw new InconsistentStateException($"Injected by the test: the write of {grainId} landed, its answer says the row had changed.");
        }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => ((ILifecycleParticipant<ISiloLifecycle>)Inner).Participate(lifecycle);
}
