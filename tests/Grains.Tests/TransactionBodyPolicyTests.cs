using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// The system's table clients write an entity-group transaction's body once
/// (<see cref="TransactionBodyPolicy"/>): the same bytes the SDK's own body writes, a length that
/// costs nothing to ask, a long body left as the SDK writes it (not even tried when its caller marks
/// it long, as the statistics' group commit does), and failures reported by the SDK as before.
/// Against Azurite.
/// </summary>
public sealed partial class TransactionBodyPolicyTests(AzuriteFixture azurite)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_transaction_sends_the_bytes_the_sdk_writes_and_its_length_costs_nothing_to_ask()
    {
        var table = TableNames.Unique("txbody");
        var systemCapture = new BodyCapture();
        var plainCapture = new BodyCapture();
        var system = SystemClient(systemCapture).GetTableClient(table);
        var plain = PlainClient(plainCapture).GetTableClient(table);
        await plain.CreateIfNotExistsAsync(Cancel);

        await system.SubmitTransactionAsync(Actions("system"), Cancel);
        await plain.SubmitTransactionAsync(Actions("plain"), Cancel);

        Assert.Equal(Normalized(plainCapture.Single(), "plain"), Normalized(systemCapture.Single(), "system"));
        Assert.Equal(0, systemCapture.LengthAllocations.Single());
        Assert.True(plainCapture.LengthAllocations.Single() > 0, "the SDK's own body builds its operations' text to tell its length");
        Assert.Equal(3, await RowCountAsync(plain, "system"));
    }

    [Fact]
    public async Task A_body_longer_than_the_buffer_is_sent_as_the_sdk_writes_it()
    {
        var table = TableNames.Unique("txbody");
        var capture = new BodyCapture();
        var client = SystemClient(capture).GetTableClient(table);
        await client.CreateIfNotExistsAsync(Cancel);
        var text = new string('x', 30_000);

        await client.SubmitTransactionAsync(
            Enumerable.Range(0, 3).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"r{i}") { ["Text"] = text })),
            Cancel);

        Assert.True(System.Text.Encoding.UTF8.GetByteCount(capture.Single()) > LongTransactionBody.MaxBufferedBytes);
        Assert.True(capture.LengthAllocations.Single() > 0, "not copied: the SDK's own body, which builds its text to tell its length");
        Assert.Equal(3, await RowCountAsync(client, "p"));
    }

    [Fact]
    public async Task A_body_its_caller_marks_long_is_not_tried_in_the_buffer()
    {
        var table = TableNames.Unique("txbody");
        var client = SystemClient(new BodyCapture()).GetTableClient(table);
        await client.CreateIfNotExistsAsync(Cancel);
        var text = new string('x', 30_000);
        TableTransactionAction[] Long(string partition) =>
            [.. Enumerable.Range(0, 3).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, $"r{i}") { ["Text"] = text }))];

        var unmarked = await PolicyExceptionsAsync(() => client.SubmitTransactionAsync(Long("unmarked"), Cancel));
        var marked = await PolicyExceptionsAsync(async () =>
        {
            using var longBody = LongTransactionBody.Scope();
            return await client.SubmitTransactionAsync(Long("marked"), Cancel);
        });

        Assert.True(unmarked > 0, "an unmarked long body is found out by trying it in the buffer");
        Assert.Equal(0, marked);
        Assert.Equal(3, await RowCountAsync(client, "marked"));
    }

    [Fact]
    public async Task The_statistics_group_commit_marks_its_long_bodies()
    {
        var capture = new BodyCapture();
        var table = SystemClient(capture).GetTableClient(TableNames.Unique("txbody"));
        await table.CreateIfNotExistsAsync(Cancel);
        var commit = new PartitionGroupCommit(table, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), NullLogger.Instance); // a linger long enough for a pause between the three
        var data = new byte[30_000];

        var exceptions = await PolicyExceptionsAsync(() => Task.WhenAll(Enumerable.Range(0, 3).Select(i =>
        {
            var entity = new TableEntity("p", $"r{i}") { ["Data"] = data };
            return commit.SubmitAsync(new PendingRowChange(TableTransactionActionType.Add, entity, default, EstimatedBytesOfARow, $"row {i}"), Cancel);
        })));

        Assert.True(System.Text.Encoding.UTF8.GetByteCount(capture.Single()) > LongTransactionBody.MaxBufferedBytes, "the three rows went in one transaction longer than the buffer");
        Assert.Equal(0, exceptions);
        Assert.Equal(3, await RowCountAsync(table, "p"));
    }

    [Fact]
    public async Task A_failed_operation_is_reported_with_its_index_and_writes_nothing()
    {
        var table = TableNames.Unique("txbody");
        var client = SystemClient(new BodyCapture()).GetTableClient(table);
        await client.CreateIfNotExistsAsync(Cancel);
        await client.AddEntityAsync(new TableEntity("p", "b"), Cancel);

        var failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => client.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.Add, new TableEntity("p", "a")),
                new(TableTransactionActionType.Add, new TableEntity("p", "b")),
            ],
            Cancel));

        Assert.Equal(409, failure.Status);
        Assert.Equal(1, failure.FailedTransactionActionIndex);
        Assert.Equal(1, await RowCountAsync(client, "p"));
    }

    /// <summary>What the group commit is told a row adds to its transaction: only the sum's being over the buffer matters here.</summary>
    private const int EstimatedBytesOfARow = 40_000;

    private static readonly AsyncLocal<bool> Counting = new();

    /// <summary>
    /// The exceptions the policy throws to find out a long body, while <paramref name="send"/> runs
    /// (first-chance: it catches them itself); counted in this flow only, not in other tests'.
    /// </summary>
    private static async Task<int> PolicyExceptionsAsync<T>(Func<Task<T>> send)
    {
        var count = 0;
        void OnThrown(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs thrown)
        {
            if (Counting.Value && thrown.Exception.GetType().DeclaringType == typeof(TransactionBodyPolicy))
            {
                Interlocked.Increment(ref count);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += OnThrown;
        try
        {
            Counting.Value = true;
            await send();
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= OnThrown;
        }

        return count;
    }

    private TableServiceClient SystemClient(BodyCapture capture)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new($"ConnectionStrings:{OrderFlowSiloExtensions.TablesConnectionName}", azurite.ConnectionString)])
            .Build();
        var services = new ServiceCollection().AddSingleton(new StorageClientPolicy(capture)).BuildServiceProvider();
        return OrderFlowSiloExtensions.CreateTableServiceClient(configuration, services);
    }

    private TableServiceClient PlainClient(BodyCapture capture)
    {
        var options = new TableClientOptions();
        options.AddPolicy(capture, HttpPipelinePosition.PerRetry);
        return new TableServiceClient(azurite.ConnectionString, options);
    }

    /// <summary>An insert, an upsert and a replace: the three operation shapes of the event log's appends.</summary>
    private static TableTransactionAction[] Actions(string partition) =>
    [
        new(TableTransactionActionType.Add, new TableEntity(partition, "e1") { ["Data"] = "{\"n\":1}", ["Version"] = 1 }),
        new(TableTransactionActionType.UpsertReplace, new TableEntity(partition, "head") { ["Version"] = 2, ["At"] = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero) }),
        new(TableTransactionActionType.UpsertMerge, new TableEntity(partition, "e2") { ["Data"] = new byte[] { 1, 2, 3 } }),
    ];

    /// <summary>The body with the random batch and changeset boundaries named alike, and the partition named alike.</summary>
    private static string Normalized(string body, string partition) =>
        Boundary().Replace(body, "$1_B").Replace($"'{partition}'", "'P'", StringComparison.Ordinal).Replace($"\"{partition}\"", "\"P\"", StringComparison.Ordinal);

    [GeneratedRegex("(batch|changeset)_[0-9a-f-]{36}")]
    private static partial Regex Boundary();

    private static async Task<int> RowCountAsync(TableClient table, string partition)
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: Cancel))
        {
            count++;
        }

        return count;
    }

    /// <summary>On every try of a transaction: what asking its body's length allocated, and the body's bytes.</summary>
    private sealed class BodyCapture : HttpPipelinePolicy
    {
        private readonly List<string> bodies = [];

        public List<long> LengthAllocations { get; } = [];

        public string Single() => Assert.Single(bodies);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Capture(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Capture(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Capture(HttpMessage message)
        {
            if (message.Request.Content is not { } content || !EntityGroupTransactions.IsTransaction(message.Request.Uri.Path))
            {
                return;
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(content.TryComputeLength(out var length));
            LengthAllocations.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            using var bytes = new MemoryStream();
            content.WriteTo(bytes, CancellationToken.None);
            Assert.Equal(length, bytes.Length);
            bodies.Add(System.Text.Encoding.UTF8.GetString(bytes.ToArray()));
        }
    }
}
