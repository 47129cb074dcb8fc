using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders.Events;

namespace OrderFlow.Domain.Tests;

public sealed class StorageFormatTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(TableLimits.PayloadChunkChars)]
    [InlineData(TableLimits.PayloadChunkChars + 1)]
    [InlineData(200 * 1024)]
    public void Payloads_split_across_properties_join_back(int length)
    {
        var json = new string('x', length);
        var entity = new TableEntity("p", "r");

        ChunkedPayload.Write(entity, json);

        Assert.Equal(json, ChunkedPayload.Read(entity));
        Assert.All(entity.Select(p => p.Value).OfType<string>(), value => Assert.True(value.Length <= TableLimits.MaxStringPropertyChars));
    }

    /// <summary>Storage's own refusal of a too-large entity carries no size: the 413's detail said "needs -1 bytes".</summary>
    [Fact]
    public void A_refusal_without_a_size_does_not_name_one()
    {
        Assert.Contains($"needs {2_000_000:N0} bytes", new EventTooLargeException("s", 2_000_000, 1_048_576).Message, StringComparison.Ordinal);
        var unsized = new EventTooLargeException("s", -1, 1_048_576).Message;
        Assert.DoesNotContain("-1", unsized, StringComparison.Ordinal);
        Assert.Contains("larger than table storage accepts", unsized, StringComparison.Ordinal);
    }

    [Fact]
    public void A_surrogate_pair_is_never_split_between_chunks()
    {
        var json = new string('x', TableLimits.PayloadChunkChars - 1) + "😀" + "tail";
        var entity = new TableEntity("p", "r");

        ChunkedPayload.Write(entity, json);

        Assert.All(entity.Select(p => p.Value).OfType<string>(), value => Assert.False(value.Length > 0 && char.IsHighSurrogate(value[^1])));
        Assert.Equal(json, ChunkedPayload.Read(entity));
    }

    [Fact]
    public void Entity_size_follows_the_documented_formula()
    {
        var entity = new TableEntity("pk", "rk") { ["S"] = "abc", ["I"] = 1, ["D"] = DateTimeOffset.UnixEpoch, ["G"] = Guid.Empty };

        // 4 + (2 + 2) * 2 + (8 + 2 + 4 + 6) + (8 + 2 + 4) + (8 + 2 + 8) + (8 + 2 + 16)
        Assert.Equal(4 + 8 + 20 + 14 + 18 + 26, EntitySize.Of(entity));
    }

    [Fact]
    public void Unknown_types_and_schema_versions_are_refused_not_guessed()
    {
        Assert.Throws<InvalidDataException>(() => OrderEventSerializer.Deserialize("OrderTeleported", 1, "{}"));
        Assert.Throws<InvalidDataException>(() => OrderEventSerializer.Deserialize("OrderPaid", 99, "{}"));
        Assert.Throws<InvalidDataException>(() => OrderEventSerializer.Deserialize("OrderPaid", 0, "{}"));
        Assert.Throws<InvalidDataException>(() => OrderEventSerializer.Deserialize("OrderPlaced", 3, "{}"));
    }

    [Fact]
    public void State_round_trips_through_a_snapshot()
    {
        var order = new OrderBuilder().Delivered();
        order.Send(new OrderFlow.Orders.Commands.RefundOrder("r-1", 3m, "part"));

        var copy = OrderEventSerializer.DeserializeState(OrderEventSerializer.SerializeState(order.State));

        Assert.Equal(OrderEventSerializer.SerializeState(order.State), OrderEventSerializer.SerializeState(copy));
        Assert.Equal(3m, copy.Refunded);
        Assert.Equal("pay-1", copy.PaymentId);
    }
}
