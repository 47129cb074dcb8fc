using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// The event log of each stream category (<see cref="StreamCategories"/>): one
/// <see cref="TableEventStore"/> per category, on the table <see cref="EventStoreOptions.TableNameOf"/>
/// names. The orders' log is the registered <see cref="TableEventStore"/> itself.
/// </summary>
public sealed class EventLogs(
    TableEventStore orders, TableServiceClient service, IOptions<EventStoreOptions> options, TimeProvider time, ILogger<TableEventStore> logger)
{
    private readonly ConcurrentDictionary<string, TableEventStore> byCategory = new(StringComparer.Ordinal);

    /// <summary>The log of <paramref name="category"/>'s streams.</summary>
    public TableEventStore For(string category) =>
        category == StreamCategories.Order
            ? orders
            : byCategory.GetOrAdd(category, c => new TableEventStore(service, options, time, logger, options.Value.TableNameOf(c)));
}
