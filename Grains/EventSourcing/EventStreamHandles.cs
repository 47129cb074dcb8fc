using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Streams;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// The handles of the streams a silo's event-sourced grains publish to: one per stream for the
/// whole silo, made on first use and shared by every activation.
/// </summary>
/// <remarks>
/// A handle an activation makes itself (<c>this.GetStreamProvider(…).GetStream(…)</c>) is kept in
/// a directory of that activation's own (Orleans' stream directory, a scoped service: a concurrent
/// dictionary with its locks, the handle and its producer) for every order a silo holds, and a
/// silo holds every order touched in the last minutes. Orleans keeps a handle made
/// outside any grain's turn in the silo's own directory instead, so each one is made on the thread
/// pool, once. Publishing through it is still a call made in the publishing grain's turn; the
/// handle carries nothing of the activation that made it.
/// </remarks>
public sealed class EventStreamHandles(IServiceProvider services)
{
    private readonly ConcurrentDictionary<(string Provider, StreamId Stream, Type Item), Task<object>> handles = new();

    /// <summary>Handles made so far.</summary>
    public int Count => handles.Count;

    public async ValueTask<IAsyncStream<T>> GetAsync<T>(string provider, StreamId stream)
    {
        var key = (provider, stream, typeof(T));
        var handle = handles.GetOrAdd(
            key,
            static (key, services) => Task.Run(() => (object)services.GetRequiredKeyedService<IStreamProvider>(key.Provider).GetStream<T>(key.Stream)),
            services);
        try
        {
            return (IAsyncStream<T>)await handle;
        }
        catch
        {
            handles.TryRemove(KeyValuePair.Create(key, handle)); // made again by the next publication
            throw;
        }
    }
}
