using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// What a silo holds of the envelopes its grains confirmed (<see cref="ConfirmedEnvelopes"/>):
/// answered only when it is all the log can hold of the versions asked for, handed over once, bounded.
/// </summary>
public sealed class ConfirmedEnvelopesTests
{
    private const string Category = "order";

    [Fact]
    public void Envelopes_confirmed_in_order_are_taken_from_the_version_asked_and_then_no_longer_held()
    {
        var held = new ConfirmedEnvelopes(new StorageRollbacks(), TimeProvider.System);
        Append(held, "o", 1, new[] { "v1", "v2" }, announcedFrom: 1);
        Append(held, "o", 3, new[] { "v3" }, announcedFrom: 1);

        Assert.Equal(new[] { "v2", "v3" }, held.TakeAfter<string>(Category, "o", afterVersion: 1, announcedThrough: 1));
        Assert.Equal(0, held.Count);
        Assert.Null(held.TakeAfter<string>(Category, "o", afterVersion: 0, announcedThrough: 1));
    }

    [Fact]
    public void A_take_hands_over_only_what_the_rows_dealt_with_announced()
    {
        var held = new ConfirmedEnvelopes(new StorageRollbacks(), TimeProvider.System);
        Append(held, "o", 1, new[] { "v1", "v2" }, announcedFrom: 1);
        Append(held, "o", 3, new[] { "v3" }, announcedFrom: 3); // the next bucket's row

        Assert.Equal(new[] { "v1", "v2", "v3" }, held.TakeAfter<string>(Category, "o", 0, announcedThrough: 1));
        Assert.Equal(new[] { "v3" }, held.TakeAfter<string>(Category, "o", 2, announcedThrough: 3));

        // A stream of another category with the same id is another stream.
        Append(held, "o", 1, new[] { "c1" }, announcedFrom: 1, category: "customer");
        Assert.Null(held.TakeAfter<string>(Category, "o", 0, 1));
        Assert.Equal(new[] { "c1" }, held.TakeAfter<string>("customer", "o", 0, 1));
    }

    [Fact]
    public void Nothing_is_answered_that_the_log_may_hold_otherwise()
    {
        var rollbacks = new StorageRollbacks();
        var held = new ConfirmedEnvelopes(rollbacks, TimeProvider.System);

        // A row announcing a version beyond what this silo confirmed: another writer's, or an append in flight.
        Append(held, "beyond", 1, new[] { "v1" }, 1);
        Assert.Null(held.TakeAfter<string>(Category, "beyond", 0, announcedThrough: 2));

        // Asked from before the first version held.
        Append(held, "before", 1, new[] { "v1", "v2" }, 1);
        Append(held, "before", 4, new[] { "v4" }, 1); // version 3 was confirmed some other way: only version 4 is known
        Assert.Null(held.TakeAfter<string>(Category, "before", 2, 1));

        // An append in flight: it may land before the rows are dealt with.
        Append(held, "flight", 1, new[] { "v1" }, 1);
        held.Appending(Category, "flight");
        Assert.Null(held.TakeAfter<string>(Category, "flight", 0, 1));

        // Forgotten by its writer (a reload, a failed append).
        Append(held, "forgotten", 1, new[] { "v1" }, 1);
        held.Forget(Category, "forgotten");
        Assert.Null(held.TakeAfter<string>(Category, "forgotten", 0, 1));

        // Storage was seen losing writes after they were confirmed.
        Append(held, "rolled", 1, new[] { "v1" }, 1);
        rollbacks.Noticed();
        Assert.Null(held.TakeAfter<string>(Category, "rolled", 0, 1));
        Append(held, "after", 1, new[] { "v1" }, 1);
        Assert.Equal(new[] { "v1" }, held.TakeAfter<string>(Category, "after", 0, 1));
    }

    [Fact]
    public void A_stream_holds_its_newest_envelopes_and_a_silo_a_bounded_number()
    {
        var time = new ManualTime();
        var held = new ConfirmedEnvelopes(new StorageRollbacks(), time);
        for (var version = 1; version <= ConfirmedEnvelopes.MaxPerStream + 10; version++)
        {
            Append(held, "refunds", version, new[] { $"v{version}" }, 1);
        }

        Assert.Equal(ConfirmedEnvelopes.MaxPerStream, held.Count);
        Assert.Null(held.TakeAfter<string>(Category, "refunds", 0, 1));

        // Full: a new stream is not held until the streams confirmed long ago expire.
        for (var i = 0; i < held.MaxEnvelopes; i++)
        {
            Append(held, $"s{i}", 1, new[] { "v1" }, 1);
        }

        Assert.Equal(ConfirmedEnvelopes.DefaultMaxEnvelopes, held.Count);
        Append(held, "late", 1, new[] { "v1" }, 1);
        Assert.Equal(ConfirmedEnvelopes.DefaultMaxEnvelopes, held.Count);
        Assert.Null(held.TakeAfter<string>(Category, "late", 0, 1));

        time.Advance(ConfirmedEnvelopes.HoldFor);
        Append(held, "late", 1, new[] { "v1" }, 1);
        Assert.Equal(1, held.Count);
        Assert.Equal(new[] { "v1" }, held.TakeAfter<string>(Category, "late", 0, 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void A_silo_holds_at_most_the_envelopes_it_is_configured_to(int bound)
    {
        var held = new ConfirmedEnvelopes(new StorageRollbacks(), new ManualTime(), bound);
        for (var i = 0; i < bound + 2; i++)
        {
            Append(held, $"s{i}", 1, new[] { "v1" }, 1);
        }

        Assert.Equal(bound, held.Count);
        Assert.Null(held.TakeAfter<string>(Category, $"s{bound}", 0, 1)); // the first beyond the bound: read from the log
        if (bound > 0)
        {
            Assert.Equal(new[] { "v1" }, held.TakeAfter<string>(Category, "s0", 0, 1));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfirmedEnvelopes(new StorageRollbacks(), new ManualTime(), -1));
    }

    /// <summary>A silo whose streams no pass asks about (the reconciler runs elsewhere) lets them go once expired, far below its bound.</summary>
    [Fact]
    public void Streams_no_pass_asks_about_expire_below_the_bound()
    {
        var time = new ManualTime();
        var held = new ConfirmedEnvelopes(new StorageRollbacks(), time);
        for (var i = 0; i < 10; i++)
        {
            Append(held, $"s{i}", 1, new[] { "v1", "v2" }, 1);
        }

        Assert.Equal(20, held.Count);
        time.Advance(ConfirmedEnvelopes.HoldFor);
        Append(held, "fresh", 1, new[] { "v1" }, 1);

        Assert.Equal(1, held.Count);
        Assert.Null(held.TakeAfter<string>(Category, "s0", 0, 1));
    }

    private static void Append(ConfirmedEnvelopes held, string streamId, int firstVersion, string[] envelopes, int announcedFrom, string category = Category)
    {
        held.Appending(category, streamId);
        held.Confirmed(category, streamId, firstVersion, envelopes, announcedFrom);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long ticks = 1;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
