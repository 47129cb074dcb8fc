using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Telemetry;
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

    [Fact]
    public async Task Snapshots_the_caller_cannot_read_are_passed_over_for_the_newest_earlier_one_it_can()
    {
        // Snapshots at 3 (schema 1), 6 and 9 (schema 2: a later build's, after a rollback to a build that reads schema 1).
        await Store.AppendAsync("rollback", 0, [Event(1, "1"), Event(2, "2"), Event(3, "3")], Snapshot(3, "1,2,3"), cancellationToken: Cancel);
        await Store.AppendAsync("rollback", 3, [Event(4, "4"), Event(5, "5"), Event(6, "6")], Snapshot(6, "later build", schemaVersion: 2), cancellationToken: Cancel);
        await Store.AppendAsync("rollback", 6, [Event(7, "7"), Event(8, "8"), Event(9, "9")], Snapshot(9, "later build", schemaVersion: 2), cancellationToken: Cancel);
        await Store.AppendAsync("rollback", 9, [Event(10, "10")], cancellationToken: Cancel);
        Func<Snapshot, bool> readsSchemaOne = snapshot => snapshot.SchemaVersion == 1;

        var latest = await Store.LoadLatestAsync("rollback", Cancel, readable: readsSchemaOne);
        var atSeven = await Store.LoadAtVersionAsync("rollback", 7, Cancel, readable: readsSchemaOne);
        var asOfNine = await Store.LoadAsOfAsync("rollback", T0.AddMinutes(9), Cancel, readable: readsSchemaOne);
        var latestForAnyReader = await Store.LoadLatestAsync("rollback", Cancel);

        Assert.Equal(3, latest.Snapshot?.Version);
        Assert.Equal("1,2,3,4,5,6,7,8,9,10", Fold(latest.Snapshot, latest.Events));
        Assert.Equal(10, latest.Version);
        Assert.Equal(3, atSeven.Snapshot?.Version);
        Assert.Equal("1,2,3,4,5,6,7", Fold(atSeven.Snapshot, atSeven.Events));
        Assert.Equal(3, asOfNine.Snapshot?.Version);
        Assert.Equal("1,2,3,4,5,6,7,8,9", Fold(asOfNine.Snapshot, asOfNine.Events));
        Assert.Equal(9, latestForAnyReader.Snapshot?.Version);
    }

    [Fact]
    public async Task With_no_snapshot_the_caller_can_read_every_event_is_folded()
    {
        await Store.AppendAsync("unreadable", 0, [Event(1, "1"), Event(2, "2"), Event(3, "3")], Snapshot(3, "later build", schemaVersion: 2), cancellationToken: Cancel);
        await Store.AppendAsync("unreadable", 3, [Event(4, "4")], cancellationToken: Cancel);

        var latest = await Store.LoadLatestAsync("unreadable", Cancel, readable: snapshot => snapshot.SchemaVersion == 1);

        Assert.Null(latest.Snapshot);
        Assert.Equal("1,2,3,4", Fold(latest.Snapshot, latest.Events));
    }

    /// <summary>Each pass-over is counted (<see cref="OrderFlowTelemetry.SnapshotsPassedOver"/>) by kind, though only the first of a kind warns.</summary>
    [Fact]
    public async Task Passing_over_a_kind_of_snapshot_warns_once_not_on_every_load_and_counts_every_time()
    {
        var log = new FakeLogCollector();
        var store = NewStore(new FakeLogger<TableEventStore>(log));
        var kind = "WarnedState-" + Guid.NewGuid().ToString("N")[..8]; // a kind of its own: the counter is the process's
        foreach (var stream in new[] { "warned-1", "warned-2" })
        {
            await store.AppendAsync(stream, 0, [Event(1, "1")], new Snapshot(1, kind, 2, T0.AddMinutes(1), "later build"), cancellationToken: Cancel);
        }

        var counted = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, meters) =>
        {
            if (instrument.Name == OrderFlowTelemetry.SnapshotsPassedOverCounter)
            {
                meters.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == OrderFlowTelemetry.SnapshotKindTag && Equals(tag.Value, kind + "/2"))
                {
                    Interlocked.Add(ref counted, value);
                }
            }
        });
        listener.Start();

        for (var load = 0; load < 3; load++)
        {
            await store.LoadLatestAsync("warned-1", Cancel, readable: snapshot => snapshot.SchemaVersion == 1);
            await store.LoadLatestAsync("warned-2", Cancel, readable: snapshot => snapshot.SchemaVersion == 1);
        }

        var passedOver = log.GetSnapshot().Where(record => record.Message.Contains("passed over", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, passedOver.Count);
        Assert.Single(passedOver, record => record.Level == LogLevel.Warning);
        Assert.Equal(6, Interlocked.Read(ref counted));
    }

    private static Snapshot Snapshot(int version, string state, int schemaVersion = 1) => new(version, "TestState", schemaVersion, T0.AddMinutes(version), state);

    private static string Fold(Snapshot? snapshot, IEnumerable<StoredEvent> events) =>
        string.Join(",", (snapshot is null ? [] : snapshot.Data.Split(',')).Concat(events.Select(e => e.Data)));
}
