using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Testing;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// An erasure and the creation of a key for the same subject, interleaved by two writers (two
/// activations of the key grain, as while a silo is declared dead): whichever order the storage
/// requests land in, no key row survives the tombstone. The interleaving is forced by holding the
/// erasure's tombstone write until the other writer has created its key.
/// </summary>
public sealed class ErasureRaceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_key_created_while_an_erasure_writes_its_tombstone_is_deleted_by_the_erasure()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("race");
        var subject = "subject-" + Guid.NewGuid().ToString("N")[..12];
        var gate = new HoldFirstPut();
        var options = new TableClientOptions();
        options.AddPolicy(gate, HttpPipelinePosition.PerCall);
        var erasing = Store(new TableServiceClient(azurite.ConnectionString, options), eventsTable);
        var creating = Store(new TableServiceClient(azurite.ConnectionString), eventsTable);

        var erasure = erasing.EraseAsync(subject, DateTimeOffset.UtcNow, ct);
        await gate.Reached.WaitAsync(ct); // the tombstone is about to be written
        var created = await creating.CreateAsync(subject, ct);
        Assert.False(created.IsErased); // no tombstone yet: the writer keeps its key
        gate.Release();
        await erasure;

        var rows = new List<TableEntity>();
        await foreach (var row in new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(eventsTable))
            .QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(subject)}"), cancellationToken: ct))
        {
            rows.Add(row);
        }

        Assert.Equal(["key"], rows.Select(row => row.RowKey)); // the tombstone alone
        Assert.True((await creating.ReadAsync(subject, ct)).IsErased);
    }

    private static SubjectKeyStore Store(TableServiceClient service, string eventsTable) => new(
        service,
        Options.Create(new PersonalDataOptions()),
        Options.Create(new EventStoreOptions { TableName = eventsTable }),
        new SubjectKeyWrapping(null, NullLogger<SubjectKeyWrapping>.Instance));

    /// <summary>Holds the first PUT (the tombstone's upsert) until released.</summary>
    private sealed class HoldFirstPut : HttpPipelinePolicy
    {
        private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int puts;

        public Task Reached => reached.Task;

        public void Release() => released.TrySetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Put && Interlocked.Increment(ref puts) == 1)
            {
                reached.TrySetResult();
                await released.Task;
            }

            await ProcessNextAsync(message, pipeline);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The key store is asynchronous.");
    }
}
