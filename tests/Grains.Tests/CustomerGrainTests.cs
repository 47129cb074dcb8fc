using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Customers.Events;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Streams;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>The customer aggregate on the event-sourced grain base, against the real silo and Azurite.</summary>
public sealed class CustomerGrainTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private static readonly DateTimeOffset RegisteredAt = new(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);

    private readonly OrderCluster cluster = fixture.Cluster;

    private static string NewCustomerId() => "customer-" + Guid.NewGuid().ToString("N")[..12];

    private static RegisterCustomer Register(string id, DateTimeOffset? at = null) => new(id, "Ada Lovelace", "ada@example.com", "GB", at ?? RegisteredAt);

    private ICustomerGrain Grain(string id) => cluster.Client.GetGrain<ICustomerGrain>(id);

    /// <summary>The customers' events table: the events table's name followed by the category.</summary>
    private TableClient CustomerTable => cluster.Service.GetTableClient(cluster.TableName + CustomerEventSource.CategoryName);

    private async Task<List<string>> RowsAsync(TableClient table, string id, CancellationToken ct)
    {
        var rows = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(id)}"), cancellationToken: ct))
        {
            rows.Add(row.RowKey + "@" + row.ETag + "|" + row.GetString("Type"));
        }

        return rows;
    }

    /// <summary>
    /// Stored personal values read "pd2.{subject}.{key}.{sealed}"; a name or an email may begin with
    /// those characters too. Decrypted on a reload, they were taken for sealed values and dropped (the
    /// customer read back without name and email, and the next snapshot stored them so).
    /// </summary>
    [Fact]
    public async Task Personal_data_that_begins_like_a_sealed_value_reads_back_after_a_reload()
    {
        var id = NewCustomerId();
        var registered = await Grain(id).Execute(new RegisterCustomer(id, "pd1.Ada", "pd2.ada@example.com", "GB", RegisteredAt), CommandMetadata.None);
        Assert.Null(registered.Error);

        await cluster.DeactivateAsync(Grain(id));
        var reloaded = await Grain(id).Get();

        Assert.Equal(("pd1.Ada", "pd2.ada@example.com", false), (reloaded?.Name, reloaded?.Email, reloaded?.Erased));
        var unchanged = await Grain(id).Execute(new ChangeCustomerProfile(null, "pd2.ada@example.com", null, RegisteredAt.AddHours(1)), CommandMetadata.None);
        Assert.NotNull(unchanged.Error); // the same email again: nothing to change
    }

    /// <summary>
    /// A retry that the state now would take as a new command (a profile change that differs again
    /// after a later change) is found out by the insert of its record, which fails with the append;
    /// the next attempt reads the record and answers as the first attempt was answered.
    /// </summary>
    [Fact]
    public async Task A_retry_that_would_append_again_is_answered_from_its_record_and_writes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewCustomerId();
        var key = new CommandMetadata(IdempotencyKey: "key-rename");
        var rename = new ChangeCustomerProfile("Ada King", null, null, RegisteredAt.AddHours(1));
        Assert.Null((await Grain(id).Execute(Register(id), CommandMetadata.None)).Error);
        var first = await Grain(id).Execute(rename, key);
        Assert.Null((await Grain(id).Execute(new ChangeCustomerProfile("Ada Byron", null, null, RegisteredAt.AddHours(2)), CommandMetadata.None)).Error);
        var rows = await RowsAsync(CustomerTable, id, ct);

        var retried = await Grain(id).Execute(rename, key);

        Assert.Null(retried.Error);
        Assert.True(retried.Replayed);
        Assert.Equal((2, "Ada King"), (retried.Customer?.Version, retried.Customer?.Name));
        Assert.Equal((first.Customer?.Version, first.Customer?.Name), (retried.Customer?.Version, retried.Customer?.Name));
        Assert.Equal(rows, await RowsAsync(CustomerTable, id, ct));
        Assert.Equal("Ada Byron", (await Grain(id).Get())?.Name);
    }

    [Fact]
    public async Task Registering_records_the_customer_once_and_a_second_registration_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewCustomerId();
        Assert.Null(await Grain(id).Get());

        var registered = await Grain(id).Execute(Register(id), CommandMetadata.None);
        Assert.Null(registered.Error);
        Assert.False(registered.Replayed);
        Assert.Equal(new CustomerView(id, "Ada Lovelace", "ada@example.com", "GB", 1, RegisteredAt, RegisteredAt), registered.Customer);
        Assert.Equal(registered.Customer, await Grain(id).Get());

        var rows = await RowsAsync(CustomerTable, id, ct);
        var again = await Grain(id).Execute(Register(id) with { Name = "Someone Else" }, CommandMetadata.None);
        Assert.Equal(CommandErrorCode.AlreadyExists, again.Error?.Code);
        Assert.Equal(rows, await RowsAsync(CustomerTable, id, ct));

        var elsewhere = await Grain(NewCustomerId()).Execute(Register(id), CommandMetadata.None);
        Assert.Equal(CommandErrorCode.Validation, elsewhere.Error?.Code);
        Assert.Contains("customerId", elsewhere.Error!.Errors!.Keys);
    }

    [Fact]
    public async Task A_profile_change_records_what_differs_and_refuses_a_change_of_nothing()
    {
        var id = NewCustomerId();
        var missing = await Grain(id).Execute(new ChangeCustomerProfile(null, "new@example.com", null), CommandMetadata.None);
        Assert.Equal(CommandErrorCode.NotFound, missing.Error?.Code);

        await Grain(id).Execute(Register(id), CommandMetadata.None);
        var changedAt = RegisteredAt.AddDays(2);
        var changed = await Grain(id).Execute(new ChangeCustomerProfile("Ada Lovelace", "ada@analytical.example", null, changedAt), CommandMetadata.None);
        Assert.Null(changed.Error);
        Assert.Equal(new CustomerView(id, "Ada Lovelace", "ada@analytical.example", "GB", 2, RegisteredAt, changedAt), changed.Customer);

        var nothing = await Grain(id).Execute(new ChangeCustomerProfile("Ada Lovelace", "ada@analytical.example", "GB", changedAt), CommandMetadata.None);
        Assert.Equal(CommandErrorCode.Validation, nothing.Error?.Code);

        var page = await Grain(id).GetEvents(1, 10);
        Assert.NotNull(page);
        Assert.Equal([CustomerRegistered.StoredName, CustomerProfileChanged.StoredName], page.Events.Select(e => e.Type));
        Assert.Contains("\"name\":null", page.Events[1].Data, StringComparison.Ordinal); // the unchanged name is not recorded again
    }

    [Fact]
    public async Task The_customer_as_of_an_event_time_and_the_events_in_pages()
    {
        var id = NewCustomerId();
        await Grain(id).Execute(Register(id), CommandMetadata.None);
        await Grain(id).Execute(new ChangeCustomerProfile(null, "one@example.com", null, RegisteredAt.AddHours(1)), CommandMetadata.None);
        await Grain(id).Execute(new ChangeCustomerProfile(null, null, "FR", RegisteredAt.AddHours(2)), CommandMetadata.None);

        Assert.Null(await Grain(id).GetAsOf(RegisteredAt.AddTicks(-1)));
        Assert.Equal(("ada@example.com", "GB", 1), Short(await Grain(id).GetAsOf(RegisteredAt)));
        Assert.Equal(("one@example.com", "GB", 2), Short(await Grain(id).GetAsOf(RegisteredAt.AddMinutes(90))));
        Assert.Equal(("one@example.com", "FR", 3), Short(await Grain(id).GetAsOf(RegisteredAt.AddDays(1))));

        var first = await Grain(id).GetEvents(1, 2);
        Assert.Equal([1, 2], first!.Events.Select(e => e.Version));
        Assert.Equal(3, first.NextFromVersion);
        var last = await Grain(id).GetEvents(3, 2);
        Assert.Equal([3], last!.Events.Select(e => e.Version));
        Assert.Null(last.NextFromVersion);
        Assert.Null(await Grain(NewCustomerId()).GetEvents(1, 10));

        static (string? Email, string? Country, int Version) Short(CustomerView? view) => (view?.Email, view!.Country, view.Version);
    }

    [Fact]
    public async Task A_command_repeated_with_its_idempotency_key_gets_the_first_answer_and_writes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewCustomerId();
        var key = new CommandMetadata("corr-c", IdempotencyKey: "register-" + id);
        var first = await Grain(id).Execute(Register(id), key);
        await Grain(id).Execute(new ChangeCustomerProfile(null, null, "FR", RegisteredAt.AddHours(1)), CommandMetadata.None);
        var rows = await RowsAsync(CustomerTable, id, ct);

        var replay = await Grain(id).Execute(Register(id), key);
        Assert.True(replay.Replayed);
        Assert.Null(replay.Error);
        Assert.Equal(first.Customer, replay.Customer); // as the first command left it, not as now
        Assert.Equal(rows, await RowsAsync(CustomerTable, id, ct));

        var otherBody = await Grain(id).Execute(Register(id) with { Email = "other@example.com" }, key);
        Assert.Equal(CommandErrorCode.Unprocessable, otherBody.Error?.Code);
    }

    [Fact]
    public async Task Erasure_is_recorded_once_and_a_repeat_is_a_success_that_writes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewCustomerId();
        await Grain(id).Execute(Register(id), CommandMetadata.None);
        var erasedAt = RegisteredAt.AddDays(3); // in the past: event times ahead of the server clock are refused
        var erased = await Grain(id).Execute(new ErasePersonalData("admin", erasedAt), CommandMetadata.None);
        Assert.Null(erased.Error);
        Assert.False(erased.Replayed);
        Assert.Equal(new CustomerView(id, null, null, "GB", 2, RegisteredAt, erasedAt, Erased: true), erased.Customer);
        var rows = await RowsAsync(CustomerTable, id, ct);

        var again = await Grain(id).Execute(new ErasePersonalData("someone-else"), CommandMetadata.None);
        Assert.Null(again.Error);
        Assert.True(again.Replayed);
        Assert.Equal(erased.Customer, again.Customer);
        Assert.Equal(rows, await RowsAsync(CustomerTable, id, ct));

        await cluster.DeactivateAsync(Grain(id));
        Assert.Equal(erased.Customer, await Grain(id).Get());
        var audit = (await Grain(id).GetEvents(2, 1))!.Events.Single();
        Assert.Equal(CustomerPersonalDataErased.StoredName, audit.Type);
        Assert.DoesNotContain("Ada", audit.Data, StringComparison.Ordinal);

        var change = await Grain(id).Execute(new ChangeCustomerProfile("Ada", null, null), CommandMetadata.None);
        Assert.Equal(CommandErrorCode.InvalidTransition, change.Error?.Code);
    }

    [Fact]
    public async Task A_customer_and_an_order_of_the_same_id_are_separate_streams_in_storage_and_in_the_change_index()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = "c-" + Guid.NewGuid().ToString("N")[..12];
        await cluster.Grain(id).Succeeds(Place(id));
        var registered = await Grain(id).Execute(Register(id), CommandMetadata.None);
        Assert.Null(registered.Error);

        Assert.Equal(OrderStatus.Placed, (await cluster.Grain(id).Get())?.Status);
        Assert.Equal("GB", (await Grain(id).Get())?.Country);
        Assert.Equal(["OrderPlaced"], (await cluster.EventsAsync(id, ct)).Select(e => e.Type));
        Assert.Equal([CustomerRegistered.StoredName], (await RowsAsync(CustomerTable, id, ct)).Where(r => r.StartsWith('0')).Select(r => r.Split('|')[1]));

        // The change index names each stream's category, so a reader knows which log to read.
        var index = new ChangeIndex(
            cluster.Service, Options.Create(new EventStoreOptions { TableName = cluster.TableName }), NullLogger<ChangeIndex>.Instance);
        var announced = new List<StreamChange>();
        string? continuation = null;
        do
        {
            var page = await index.ReadPageAsync(continuation, 1000, ct);
            announced.AddRange(page.Changes.Where(c => c.StreamId == id));
            continuation = page.Continuation;
        }
        while (continuation is not null);
        Assert.Equal([CustomerEventSource.CategoryName, StreamCategories.Order], announced.Select(c => c.Category).Order());
    }

    [Fact]
    public async Task Customer_events_are_published_on_the_customer_namespace()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewCustomerId();
        var received = new ConcurrentQueue<CustomerEventEnvelope>();
        var stream = cluster.Client.GetStreamProvider(OrderEventStreams.ProviderName).GetStream<CustomerEventEnvelope>(
            StreamId.Create(CustomerEventStreams.Namespace, CustomerEventStreams.StreamKey(CustomerEventStreams.ShardOf(id))));
        var subscription = await stream.SubscribeAsync((envelope, _) =>
        {
            if (envelope.CustomerId == id)
            {
                received.Enqueue(envelope);
            }

            return Task.CompletedTask;
        });
        try
        {
            await Grain(id).Execute(Register(id), CommandMetadata.None);
            await Grain(id).Execute(new ChangeCustomerProfile(null, null, "FR", RegisteredAt.AddHours(1)), CommandMetadata.None);

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (received.Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }

            Assert.Equal(
                [(1, CustomerRegistered.StoredName, "GB"), (2, CustomerProfileChanged.StoredName, "FR")],
                received.Select(e => (e.Version, e.Type, e.Country)));
            Assert.All(received, e => Assert.Equal(RegisteredAt, e.RegisteredAt));
            Assert.All(received, e => Assert.NotNull(e.RecordedAt));
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }
}
