using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>The change index read whole, page by page, as the catch-up after a silo's death reads it.</summary>
public sealed class ChangeIndexTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Every_change_settled_or_not_is_read_once_across_pages()
    {
        var changes = new ChangeIndex(
            new TableServiceClient(azurite.ConnectionString),
            Options.Create(new EventStoreOptions { TableName = TableNames.Unique("changes"), ChangeBucket = TimeSpan.FromSeconds(1) }),
            NullLogger<ChangeIndex>.Instance);
        var now = DateTimeOffset.UtcNow;
        var recorded = new List<(string Stream, int From)>();
        for (var i = 0; i < 7; i++)
        {
            // Buckets long past, current and still to come: the catch-up reads them all.
            var stream = $"paged-{i}";
            await changes.RecordAsync(stream, i + 1, changes.PartitionOf(stream, now.AddMinutes(i * 10 - 30)), TestContext.Current.CancellationToken);
            recorded.Add((stream, i + 1));
        }

        var read = new List<(string Stream, int From)>();
        var pages = 0;
        string? continuation = null;
        do
        {
            var page = await changes.ReadPageAsync(continuation, 3, TestContext.Current.CancellationToken);
            Assert.InRange(page.Changes.Count, 0, 3);
            read.AddRange(page.Changes.Select(c => (c.StreamId, c.FromVersion)));
            continuation = page.Continuation;
            pages++;
        }
        while (continuation is not null);

        Assert.Equal(recorded.Order(), read.Order());
        Assert.True(pages >= 3, $"Seven rows in pages of three took {pages} pages.");

        // Reading removes nothing.
        Assert.Equal(7, (await changes.ReadEndedBeforeAsync(now.AddDays(1), 100, TestContext.Current.CancellationToken)).Count);
    }
}
