using OrderFlow.Grains.EventStore;

namespace OrderFlow.Domain.Tests;

public sealed class KeyEncodingTests
{
    [Theory]
    [InlineData("order-42", "order-42")]
    [InlineData("a_b", "a_b")]
    [InlineData(".", "~2E")]
    [InlineData("..", "~2E~2E")]
    [InlineData("a/b#c?d\\e", "a~2Fb~23c~3Fd~5Ce")]
    [InlineData("é", "~C3~A9")]
    [InlineData("~", "~7E")]
    public void Encodes_to_legal_keys_and_back(string id, string expected)
    {
        var key = KeyEncoding.Encode(id);

        Assert.Equal(expected, key);
        Assert.DoesNotContain(key, c => c is '/' or '\\' or '#' or '?' or '.' || char.IsControl(c));
        Assert.Equal(id, KeyEncoding.Decode(key));
    }

    [Fact]
    public void Event_row_keys_sort_by_version_and_before_other_rows()
    {
        var keys = new[] { 1, 9, 10, 100, int.MaxValue }.Select(KeyEncoding.EventRowKey).ToArray();

        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.All(keys, key => Assert.True(string.CompareOrdinal(key, KeyEncoding.EventRowKeyUpperBound) < 0));
        Assert.True(string.CompareOrdinal(KeyEncoding.EventRowKeyUpperBound, KeyEncoding.IdempotencyPrefix) < 0);
        Assert.True(string.CompareOrdinal(KeyEncoding.EventRowKeyUpperBound, KeyEncoding.SnapshotPrefix) < 0);
    }

    [Fact]
    public void Snapshot_row_keys_sort_newest_first()
    {
        Assert.True(string.CompareOrdinal(KeyEncoding.SnapshotRowKey(200), KeyEncoding.SnapshotRowKey(100)) < 0);
    }
}
