using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Storage;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>
/// Group commit of announcements, on an Azurite of this class's own: suspending it holds a group's
/// request on the wire, so that what is announced meanwhile has to wait for the next group.
/// </summary>
public sealed class ChangeAnnouncerTests : IAsyncLifetime
{
    private readonly RequestCounter requests = new();
    private Azurite? azurite;

    private Azurite Storage => azurite ?? throw new InvalidOperationException("Azurite has not started.");

    public async ValueTask InitializeAsync() => azurite = await Azurite.StartNewAsync(cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (azurite is not null)
        {
            await azurite.DisposeAsync();
        }
    }

    [Fact]
    public async Task Orders_announcing_while_a_group_is_written_share_the_next_requests()
    {
        var ct = TestContext.Current.CancellationToken;
        var (index, announcer) = Start();
        await announcer.AnnounceAsync("warm-up", 1); // creates the table
        requests.Reset();

        const int Orders = 250;
        var announced = new List<Task<string>>();
        using (Storage.Suspend())
        {
            // The first starts a group that cannot finish; the others wait for the next.
            for (var i = 0; i < Orders; i++)
            {
                announced.Add(announcer.AnnounceAsync($"order-{i}", i % 3 + 1));
            }

            Assert.DoesNotContain(announced, a => a.IsCompleted);
        }

        var buckets = await Task.WhenAll(announced);

        // The first group, then the rest in groups of at most 100: four requests at most, not 250.
        var sent = requests.Sent;
        Assert.True(sent.Count <= 1 + (Orders + 99) / 100, $"{Orders} announcements sent {sent.Count} requests: {string.Join(", ", sent)}");

        var rows = await ReadAllAsync(index, ct);
        var stored = rows.Where(r => r.StreamId != "warm-up").ToList();
        Assert.Equal(
            Enumerable.Range(0, Orders).Select(i => ($"order-{i}", i % 3 + 1)).Order(),
            stored.Select(r => (r.StreamId, r.FromVersion)).Order());

        // Each writer is told the bucket its row went to.
        foreach (var (row, i) in stored.Select(r => (r, int.Parse(r.StreamId["order-".Length..], System.Globalization.CultureInfo.InvariantCulture))))
        {
            Assert.StartsWith(buckets[i] + "-", row.Partition, StringComparison.Ordinal);
        }

        Assert.True(stored.Select(r => r.Partition).Distinct().Count() <= sent.Count, "A group goes to one partition.");
    }

    [Fact]
    public async Task The_same_row_announced_twice_in_a_group_is_written_once_and_both_writers_are_answered()
    {
        var ct = TestContext.Current.CancellationToken;
        var (index, announcer) = Start();
        await announcer.AnnounceAsync("warm-up", 1);

        Task<string>[] twice;
        using (Storage.Suspend())
        {
            _ = announcer.AnnounceAsync("ahead", 1); // holds the group that the two wait behind
            twice = [announcer.AnnounceAsync("twice", 4), announcer.AnnounceAsync("twice", 4), announcer.AnnounceAsync("other", 1)];
        }

        await Task.WhenAll(twice);
        var rows = await ReadAllAsync(index, ct);
        Assert.Single(rows, r => r.StreamId == "twice" && r.FromVersion == 4);
        Assert.Single(rows, r => r.StreamId == "other");
    }

    [Fact]
    public async Task A_group_that_fails_fails_every_writer_in_it_and_records_nothing_and_the_next_group_goes_ahead()
    {
        var ct = TestContext.Current.CancellationToken;
        var (index, announcer) = Start();
        await announcer.AnnounceAsync("warm-up", 1);

        // The table is deleted under the running index: every request of a group now fails.
        var table = Storage.CreateServiceClient().GetTableClient(index.TableName);
        await table.DeleteAsync(ct);
        requests.Reset();

        const int Orders = 40;
        var announced = new List<Task<string>>();
        using (Storage.Suspend())
        {
            for (var i = 0; i < Orders; i++)
            {
                announced.Add(announcer.AnnounceAsync($"failing-{i}", 1));
            }
        }

        foreach (var announcement in announced)
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(() => announcement);
        }

        Assert.True(requests.Sent.Count < Orders, $"{Orders} announcements went in {requests.Sent.Count} requests: they were not grouped.");

        await table.CreateAsync(ct);
        Assert.Empty(await ReadAllAsync(index, ct));

        // The failure left nothing behind that holds up the next writer.
        await announcer.AnnounceAsync("after", 1);
        Assert.Equal(["after"], (await ReadAllAsync(index, ct)).Select(r => r.StreamId));
    }

    private (ChangeIndex Index, ChangeAnnouncer Announcer) Start()
    {
        var options = new TableClientOptions();
        options.AddPolicy(requests, HttpPipelinePosition.PerRetry);
        var index = new ChangeIndex(
            new TableServiceClient(Storage.ConnectionString, options),
            Options.Create(new EventStoreOptions { TableName = TableNames.Unique("announce"), OperationTimeout = TimeSpan.FromSeconds(30) }),
            NullLogger<ChangeIndex>.Instance);
        return (index, new ChangeAnnouncer(index, TimeProvider.System));
    }

    private static async Task<List<StreamChange>> ReadAllAsync(ChangeIndex index, CancellationToken cancellationToken)
    {
        var rows = new List<StreamChange>();
        string? continuation = null;
        do
        {
            var page = await index.ReadPageAsync(continuation, 1000, cancellationToken);
            rows.AddRange(page.Changes);
            continuation = page.Continuation;
        }
        while (continuation is not null);
        return rows;
    }
}
