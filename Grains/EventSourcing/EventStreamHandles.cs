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
/// A handle made in a grain's turn is kept in a stream directory of that activation's own (a scoped
/// service: a concurrent dictionary with its locks, the handle and its producer). A silo holds
/// every order touched in the last minutes, each with such a directory. Orleans'
/// <c>SiloStreamProviderRuntime.GetStreamDirectory</c> takes the activation's directory when a grain
/// context is current (the thread-static <c>RuntimeContext.Current</c>) and the silo's own
/// otherwise, hence <c>Task.Run</c>. A persistent stream's producer only
/// enqueues, with the request context of the call that publishes, so the handle does not depend on
/// where it was made.
/// </remarks>
public sealed class EventStreamHandles(IServiceProvider services)
{
    private readonly ConcurrentDictionary<(string Provider, StreamId Stream, Type Item), Task<object>> handles = new();

    /// <summary>Handles made so far.</summary>
    public int Count => handles.Count;

    /// <summary>The silo's handle of <paramref name="stream"/> on <paramref name="provider"/>; the first call per stream goes through the thread pool.</summary>
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
