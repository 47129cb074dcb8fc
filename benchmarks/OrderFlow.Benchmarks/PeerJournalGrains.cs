using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Orleans.EventSourcing;
using Orleans.Providers;
using Orleans.Storage;

namespace OrderFlow.Benchmarks;

/// <summary>
/// A peer of the order aggregate for the history scenario: Orleans' own <see cref="JournaledGrain{TState, TEvent}"/>
/// doing the same appends (a refund at a time, each confirmed before the answer), on Azure table
/// grain storage, with one of Orleans' log-consistency providers.
/// </summary>
[Alias("bench.peer-journal")]
public interface IPeerJournalGrain : IGrainWithStringKey
{
    /// <summary>Raises one refund and confirms it; the version after it.</summary>
    [Alias("append")]
    Task<int> Append(string refundId, decimal amount);

    /// <summary>The confirmed version (what a first read after activation has to load).</summary>
    [Alias("version")]
    Task<int> Version();
}

/// <summary>The peers' names of their providers and grain storage, and their registration.</summary>
public static class PeerProviders
{
    public const string LogStorage = "bench-log-storage";
    public const string StateStorage = "bench-state-storage";

    /// <summary>The peers' grain storage: <see cref="PeerGrainStorage"/> over <see cref="TableStorage"/>.</summary>
    public const string GrainStorage = "bench-peers";

    /// <summary>Orleans' Azure table grain storage, which <see cref="PeerGrainStorage"/> writes through.</summary>
    public const string TableStorage = "bench-peers-tables";

    /// <summary>Both log-consistency providers, on Azure table grain storage in <paramref name="tableName"/> through <see cref="PeerGrainStorage"/>.</summary>
    public static ISiloBuilder AddPeerJournalProviders(this ISiloBuilder silo, TableServiceClient tables, string tableName)
    {
        silo.AddLogStorageBasedLogConsistencyProvider(LogStorage)
            .AddStateStorageBasedLogConsistencyProvider(StateStorage)
            .AddAzureTableGrainStorage(TableStorage, options =>
            {
                options.TableServiceClient = tables;
                options.TableName = tableName;
            });
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorage, (services, _) => new PeerGrainStorage(services.GetRequiredKeyedService<IGrainStorage>(TableStorage)));
        return silo;
    }
}

/// <summary>The state both peers keep: the refunds, as the order's state does.</summary>
[GenerateSerializer, Alias("bench.peer-order-state")]
public sealed class PeerOrderState
{
    [Id(0)]
    public List<PeerRefunded> Refunds { get; set; } = [];

    [Id(1)]
    public decimal Refunded { get; set; }

    public void Apply(PeerRefunded refunded)
    {
        Refunds.Add(refunded);
        Refunded += refunded.Amount;
    }
}

[GenerateSerializer, Immutable, Alias("bench.peer-refunded")]
public sealed record PeerRefunded(
    [property: Id(0)] string RefundId,
    [property: Id(1)] decimal Amount,
    [property: Id(2)] DateTimeOffset OccurredAt);

public abstract class PeerJournalGrain : JournaledGrain<PeerOrderState, PeerRefunded>, IPeerJournalGrain
{
    public async Task<int> Append(string refundId, decimal amount)
    {
        RaiseEvent(new PeerRefunded(refundId, amount, DateTimeOffset.UtcNow));
        await ConfirmEvents();
        return Version;
    }

    Task<int> IPeerJournalGrain.Version() => Task.FromResult(Version);
}

/// <summary>The whole log kept as one grain state, rewritten on every append.</summary>
[LogConsistencyProvider(ProviderName = PeerProviders.LogStorage)]
[StorageProvider(ProviderName = PeerProviders.GrainStorage)]
public sealed class LogStoragePeerGrain : PeerJournalGrain;

/// <summary>Only the latest state (a snapshot) kept as grain state, rewritten on every append.</summary>
[LogConsistencyProvider(ProviderName = PeerProviders.StateStorage)]
[StorageProvider(ProviderName = PeerProviders.GrainStorage)]
public sealed class StateStoragePeerGrain : PeerJournalGrain;
