using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.PersonalData;
using OrderFlow.Silo;
using OrderFlow.Storage;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// An erasure shreds the key first, then records the erasure in the log. When the log cannot be
/// reached after the key is gone, the answer must not say that nothing was written (503
/// storage-unavailable): it is the outcome-unknown answer, whose retry records the erasure.
/// </summary>
public sealed class ErasureOutcomeTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset At = new(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_erasure_whose_record_cannot_be_written_after_the_key_is_gone_is_of_unknown_outcome_and_its_retry_records_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), "erasure-outcome-" + Guid.NewGuid().ToString("N"));
        await using var events = await Azurite.StartNewAsync(folder, ct);
        var eventsTable = TableNames.Unique("erasureoutcome");
        var stopping = new StopStorageAfterErasure(events);
        await using var cluster = await TestClusters.StartAsync(new Dictionary<string, string?>
        {
            ["Dashboard:Enabled"] = "false",
            ["ConnectionStrings:" + OrderFlowSiloExtensions.TablesConnectionName] = events.ConnectionString,
            ["ConnectionStrings:" + OrderFlowSiloExtensions.KeysConnectionName] = azurite.ConnectionString,
            ["EventStore:TableName"] = eventsTable,
            ["Statistics:TableName"] = eventsTable + "stats",
        }, ct, replaceServices: services => services.AddSingleton<IPersonalDataEraser>(provider =>
            stopping.Around(ActivatorUtilities.CreateInstance<SubjectKeyEraser>(provider))));
        var id = "customer-" + Guid.NewGuid().ToString("N")[..12];
        var grain = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await grain.Execute(new RegisterCustomer(id, "Ada", "ada@example.com", "GB", At), CommandMetadata.None)).Error);
        await events.WaitUntilSavedAsync(Grains.EventStore.KeyEncoding.Encode(id), ct); // a restart keeps the registration

        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Execute(new ErasePersonalData("admin"), CommandMetadata.None));
        Assert.True(failure.WriteOutcomeUnknown, failure.ToString());
        Assert.Contains("shredded", failure.Message, StringComparison.Ordinal);

        await events.StartAsync(ct);
        var retried = await grain.Execute(new ErasePersonalData("admin"), CommandMetadata.None);
        Assert.Null(retried.Error);
        Assert.Equal((true, 2), (retried.Customer!.Erased, retried.Customer.Version));
    }

    /// <summary>
    /// Review finding: the key store's erasure itself can fail half-way (the tombstone written, a key
    /// row not yet deleted); the subject reads as erased from then on, so that is not "nothing was written" either.
    /// </summary>
    [Fact]
    public async Task An_erasure_that_fails_within_the_key_store_after_its_tombstone_is_of_unknown_outcome()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await TestClusters.StartAsync(TestClusters.Settings(azurite.ConnectionString, TableNames.Unique("erasurehalf")), ct,
            replaceServices: services => services.AddSingleton<IPersonalDataEraser>(provider =>
                new FailingAfterErasure(ActivatorUtilities.CreateInstance<SubjectKeyEraser>(provider))));
        var id = "customer-" + Guid.NewGuid().ToString("N")[..12];
        var grain = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await grain.Execute(new RegisterCustomer(id, "Ada", "ada@example.com", "GB", At), CommandMetadata.None)).Error);

        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Execute(new ErasePersonalData("admin"), CommandMetadata.None));

        Assert.True(failure.WriteOutcomeUnknown, failure.ToString());
        // Review finding: the activation went on answering from the view it had before the erasure.
        var view = await grain.Get();
        Assert.Equal((null, null, true), (view!.Name, view.Email, view.Erased));
    }

    /// <summary>
    /// Review finding: when a key row's deletion failed after the tombstone was written, the key
    /// grain kept serving the keys it had cached (for PersonalData:KeyCacheDuration, a minute): the
    /// subject read as not erased and its data as readable, and a new order could seal an address
    /// with the key. The tombstone is what is read from then on.
    /// </summary>
    [Fact]
    public async Task An_erasure_whose_key_row_deletion_fails_reads_as_erased_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("erasuredelete");
        var keysTable = new PersonalDataOptions().KeysTableNameFor(eventsTable);
        var refusing = new RefuseDeletions(keysTable);
        await using var cluster = await TestClusters.StartAsync(TestClusters.Settings(azurite.ConnectionString, eventsTable), ct,
            replaceServices: services => services.AddSingleton(new StorageClientPolicy(refusing)));
        var id = "customer-" + Guid.NewGuid().ToString("N")[..12];
        var grain = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await grain.Execute(new RegisterCustomer(id, "Ada", "ada@example.com", "GB", At), CommandMetadata.None)).Error);
        Assert.False(await cluster.Client.GetGrain<ISubjectKeyGrain>(id).IsErased()); // its keys cached

        refusing.Enabled = true;
        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Execute(new ErasePersonalData("admin"), CommandMetadata.None));

        Assert.True(failure.WriteOutcomeUnknown, failure.ToString());
        Assert.True(await cluster.Client.GetGrain<ISubjectKeyGrain>(id).IsErased());
        Assert.Null(await cluster.Client.GetGrain<ISubjectKeyGrain>(id).GetOrCreateKey());
        var view = await grain.Get();
        Assert.Equal((null, null, true), (view!.Name, view.Email, view.Erased));
    }

    /// <summary>
    /// Review finding: a repeat of an erasure with its Idempotency-Key was answered from the key's
    /// record without deleting anything, though README says every repeat deletes again and its
    /// restore procedure repeats erasure requests: keys restored from a backup (without the
    /// tombstone) stayed, and the subject's data was readable again.
    /// </summary>
    [Fact]
    public async Task A_replayed_erasure_deletes_keys_restored_since()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("erasurereplay");
        await using var cluster = await TestClusters.StartAsync(TestClusters.Settings(azurite.ConnectionString, eventsTable), ct);
        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(eventsTable));
        var id = "customer-" + Guid.NewGuid().ToString("N")[..12];
        var grain = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await grain.Execute(new RegisterCustomer(id, "Ada", "ada@example.com", "GB", At), CommandMetadata.None)).Error);
        var backup = await RowsAsync(keys, id, ct);
        Assert.Contains(backup, row => row.RowKey.StartsWith("key-", StringComparison.Ordinal));
        var erasure = new CommandMetadata(IdempotencyKey: "erase-" + id);
        Assert.Null((await grain.Execute(new ErasePersonalData("admin"), erasure)).Error);

        // The key table restored from the backup: the key rows back, the tombstone gone.
        await keys.DeleteEntityAsync(KeyEncoding.Encode(id), "key", cancellationToken: ct);
        foreach (var row in backup)
        {
            await keys.UpsertEntityAsync(row, TableUpdateMode.Replace, ct);
        }

        var replayed = await grain.Execute(new ErasePersonalData("admin"), erasure);

        Assert.True(replayed.Replayed);
        Assert.Equal(["key"], (await RowsAsync(keys, id, ct)).Select(row => row.RowKey)); // the tombstone alone
    }

    private static async Task<List<TableEntity>> RowsAsync(TableClient keys, string subjectId, CancellationToken ct)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(subjectId)}"), cancellationToken: ct))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Once enabled, refuses every deletion of a row of <paramref name="table"/>, as storage refusing it (503) would.</summary>
    private sealed class RefuseDeletions(string table) : HttpPipelinePolicy
    {
        public volatile bool Enabled;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ThrowIfRefused(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ThrowIfRefused(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void ThrowIfRefused(HttpMessage message)
        {
            if (Enabled && message.Request.Method == RequestMethod.Delete && message.Request.Uri.Path.Contains("/" + table + "(", StringComparison.Ordinal))
            {
                throw new RequestFailedException(503, "Injected: the deletion of a key row was refused.");
            }
        }
    }

    /// <summary>
    /// Review finding: an erasure whose Idempotency-Key another request took while it was being
    /// decided (that request's record landing between the erasure's look at its key and its append,
    /// as from another activation) was refused 422 "key already used" with nothing said of the data
    /// it had shredded. The refusal now says the data was shredded and the erasure not recorded.
    /// </summary>
    [Fact]
    public async Task An_erasure_refused_after_it_shredded_the_data_says_so()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("erasurekey");
        await using var cluster = await TestClusters.StartAsync(TestClusters.Settings(azurite.ConnectionString, eventsTable), ct,
            replaceServices: services => services.AddSingleton<IPersonalDataEraser>(provider =>
                new AnotherRequestTakesTheKey(ActivatorUtilities.CreateInstance<SubjectKeyEraser>(provider), azurite.ConnectionString, eventsTable)));
        var id = "customer-" + Guid.NewGuid().ToString("N")[..12];
        var grain = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await grain.Execute(new RegisterCustomer(id, "Ada", "ada@example.com", "GB", At), CommandMetadata.None)).Error);

        var refused = await grain.Execute(new ErasePersonalData("admin"), new CommandMetadata(IdempotencyKey: AnotherRequestTakesTheKey.Key));

        Assert.Equal(CommandErrorCode.Unprocessable, refused.Error?.Code);
        Assert.Contains("shredded", refused.Error!.Detail, StringComparison.Ordinal);
        Assert.True(await cluster.Client.GetGrain<ISubjectKeyGrain>(id).IsErased());
    }

    /// <summary>The product's eraser, then another request's append with the erasure's key, as another activation would make it meanwhile.</summary>
    private sealed class AnotherRequestTakesTheKey(IPersonalDataEraser inner, string connectionString, string eventsTable) : IPersonalDataEraser
    {
        public const string Key = "taken-meanwhile";

        public async Task EraseAsync(string subjectId)
        {
            await inner.EraseAsync(subjectId);
            var options = new EventStoreOptions { TableName = eventsTable };
            var store = new TableEventStore(new TableServiceClient(connectionString), Options.Create(options), TimeProvider.System,
                NullLogger<TableEventStore>.Instance, options.TableNameOf(CustomerEventSource.CategoryName));
            var change = new CustomerProfileChanged(At.AddMinutes(1), null, null, "FR");
            await store.AppendAsync(subjectId, 1, [new EventToAppend(
                Guid.NewGuid(), EventSerializer<CustomerEvent>.TypeName(change), EventSerializer<CustomerEvent>.SchemaVersionOf(change), change.OccurredAt,
                "corr-another-request", null, EventSerializer<CustomerEvent>.Serialize(change))],
                idempotency: new IdempotencyRecord(Key, "another request's hash", 2));
        }
    }

    /// <summary>The product's eraser, then a failure that says nothing was written: as a key row's deletion refused after the tombstone.</summary>
    private sealed class FailingAfterErasure(IPersonalDataEraser inner) : IPersonalDataEraser
    {
        public async Task EraseAsync(string subjectId)
        {
            await inner.EraseAsync(subjectId);
            throw new StorageUnavailableException("Injected: a key row's deletion was refused.", new InvalidOperationException("refused"), writeOutcomeUnknown: false);
        }
    }

    /// <summary>The product's eraser, after which the event log's storage stops (once): connections refused, nothing sent.</summary>
    private sealed class StopStorageAfterErasure(Azurite storage)
    {
        private int stopped;

        public IPersonalDataEraser Around(IPersonalDataEraser inner) => new Eraser(inner, this);

        private async Task StopOnceAsync()
        {
            if (Interlocked.Exchange(ref stopped, 1) == 0)
            {
                await storage.StopAsync();
            }
        }

        private sealed class Eraser(IPersonalDataEraser inner, StopStorageAfterErasure owner) : IPersonalDataEraser
        {
            public async Task EraseAsync(string subjectId)
            {
                await inner.EraseAsync(subjectId);
                await owner.StopOnceAsync();
            }
        }
    }
}
