using OrderFlow.Grains.EventStore;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>
/// The store is generic: here the "state" is the list of event payloads seen so far, so a fold
/// is easy to check by hand.
/// </summary>
public sealed class SnapshotAndHistoryTests(AzuriteFixture azurite) : EventStoreTestBase(azurite)
{
    [Fact]
    public async Task Latest_is_the_newest_snapshot_plus_the_events_after_it_and_folds_like_the_whole_log()
    {
        // Versions 1..7 with snapshots after 3 and 6, written in the same transactions as events 3 and 6.
        await Store.AppendAsync("snap", 0, [Event(1, "1"), Event(2, "2"), Event(3, "3")], Snapshot(3, "1,2,3"), cancellationToken: Cancel);
        await Store.AppendAsync("snap", 3, [Event(4, "4"), Event(5, "5"), Event(6, "6")], Snapshot(6, "1,2,3,4,5,6"), cancellationToken: Cancel);
        await Store.AppendAsync("snap", 6, [Event(7, "7")], cancellationToken: Cancel);

        var latest = await Store.LoadLatestAsync("snap", Cancel);
        var everything = await Store.ReadEventsAsync("snap", 1, 100, Cancel);

        Assert.Equal(6, latest.Snapshot?.Version);
        Assert.Equal([7], latest.Events.Select(e => e.Version));
        Assert.Equal(7, latest.Version);
        Assert.Equal(Fold(null, everything), Fold(latest.Snapshot, latest.Events));
    }

    [Fact]
    public async Task State_at_a_version_uses_the_newest_snapshot_at_or_before_it()
    {
        await Store.AppendAsync("at", 0, [Event(1, "1"), Event(2, "2"), Event(3, "3")], Snapshot(3, "1,2,3"), cancellationToken: Cancel);
        await Store.AppendAsync("at", 3, [Event(4, "4"), Event(5, "5")], cancellationToken: Cancel);

        var atTwo = await Store.LoadAtVersionAsync("at", 2, Cancel);
        var atFour = await Store.LoadAtVersionAsync("at", 4, Cancel);
        var beyond = await Store.LoadAtVersionAsync("at", 9, Cancel);

        Assert.Null(atTwo.Snapshot);
        Assert.Equal("1,2", Fold(atTwo.Snapshot, atTwo.Events));
        Assert.Equal(3, atFour.Snapshot?.Version);
        Assert.Equal("1,2,3,4", Fold(atFour.Snapshot, atFour.Events));
        Assert.Equal(5, beyond.Version);
    }

    [Fact]
    public async Task State_as_of_a_time_includes_events_up_to_and_including_it()
    {
        await Store.AppendAsync("asof", 0, [Event(1, "1"), Event(2, "2"), Event(3, "3")], Snapshot(3, "1,2,3"), cancellationToken: Cancel);
        await Store.AppendAsync("asof", 3, [Event(4, "4")], cancellationToken: Cancel);

        var before = await Store.LoadAsOfAsync("asof", T0, Cancel);
        var atTwo = await Store.LoadAsOfAsync("asof", T0.AddMinutes(2), Cancel);
        var betweenThreeAndFour = await Store.LoadAsOfAsync("asof", T0.AddMinutes(3.5), Cancel);
        var after = await Store.LoadAsOfAsync("asof", T0.AddDays(1), Cancel);

        Assert.Equal(0, before.Version);
        Assert.Equal("1,2", Fold(atTwo.Snapshot, atTwo.Events));
        Assert.Equal(3, betweenThreeAndFour.Version);
        Assert.Equal("1,2,3,4", Fold(after.Snapshot, after.Events));
    }

    private static Snapshot Snapshot(int version, string state) => new(version, "TestState", 1, T0.AddMinutes(version), state);

    private static string Fold(Snapshot? snapshot, IEnumerable<StoredEvent> events) =>
        string.Join(",", (snapshot is null ? [] : snapshot.Data.Split(',')).Concat(events.Select(e => e.Data)));
}
