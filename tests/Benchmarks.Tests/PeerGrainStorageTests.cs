using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;
using Orleans.Storage;

namespace OrderFlow.Benchmarks.Tests;

/// <summary>
/// The benchmark's peers (<see cref="PeerGrainStorage"/>): a <c>JournaledGrain</c> whose state
/// outgrew its entity keeps retrying its write for as long as the silo runs; its storage must stop
/// sending for it, or it busies the process and Azurite in every scenario after the history.
/// </summary>
public sealed class PeerGrainStorageTests(AzuriteFixture azurite)
{
    private static readonly string LogStoragePeer = "OrderFlow.Benchmarks." + nameof(LogStoragePeerGrain);

    [Fact]
    public async Task A_peer_whose_state_outgrew_its_entity_sends_nothing_more_while_other_peers_go_on()
    {
        var ct = TestContext.Current.CancellationToken;
        var table = TableNames.Unique("peers");
        var requests = new RequestCounter();
        var clientOptions = new TableClientOptions();
        clientOptions.AddPolicy(requests, HttpPipelinePosition.PerRetry);
        await using var cluster = await TestClusters.StartAsync(
            TestClusters.Settings(azurite.ConnectionString, TableNames.Unique("events")), ct,
            configureSilo: silo => silo.AddPeerJournalProviders(new TableServiceClient(azurite.ConnectionString, clientOptions), table));
        var storage = Assert.IsType<PeerGrainStorage>(cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(PeerProviders.GrainStorage));
        var outgrowing = cluster.Client.GetGrain<IPeerJournalGrain>("outgrowing", LogStoragePeer);

        // Refunds with ids of 200,000 characters: a few outgrow the 1 MiB entity. The append that
        // does never completes (the grain retries its write), so each append is awaited only
        // until the storage has given up on the grain.
        var outgrown = Eventually.UntilAsync(() => Task.FromResult(storage.Outgrown.Count > 0), "the peer's state to outgrow its entity", ct, TimeSpan.FromMinutes(2));
        for (var i = 0; !outgrown.IsCompleted; i++)
        {
            await Task.WhenAny(outgrowing.Append(i + new string('r', 200_000), 0.01m), outgrown);
        }

        await outgrown;
        Assert.Equal("outgrowing", Assert.Single(storage.Outgrown).Key.ToString());

        // The grain retries all along: without the refusal it writes and reads its state some times a second.
        var sentBefore = requests.SentTo(table).Count;
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        Assert.Equal(sentBefore, requests.SentTo(table).Count);

        // Another peer on the same storage is unaffected.
        var other = cluster.Client.GetGrain<IPeerJournalGrain>("other", LogStoragePeer);
        Assert.Equal(1, await other.Append("refund-1", 0.01m));
        Assert.True(requests.SentTo(table).Count > sentBefore, "The other peer's append sent nothing.");
    }
}
