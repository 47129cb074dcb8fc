using System.Text;
using CsCheck;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Statistics;
using OrderFlow.Testing.Keys;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// The one key encoder, over arbitrary strings: every key it makes is legal (see
/// <c>Statistics.Tests/StorageKeyTests</c> for the same strings written to real table storage),
/// decodes back to its id, and no two ids share a key.
/// </summary>
public sealed class KeyEncodingProperties
{
    [Fact]
    public void Every_key_is_legal_and_decodes_back_or_the_id_is_refused_as_too_long()
    {
        StorageKeyIds.Any.Sample(id =>
        {
            string key;
            try
            {
                key = KeyEncoding.Encode(id);
            }
            catch (ArgumentException refused)
            {
                Assert.Contains("too long", refused.Message, StringComparison.Ordinal);
                Assert.True(id.Length > KeyEncoding.MaxEncodedLength / 12, $"A {id.Length}-character id was refused.");
                return;
            }

            Assert.InRange(key.Length, 1, KeyEncoding.MaxEncodedLength);
            Assert.All(key, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '~', $"'{c}' in key {key}"));
            Assert.Equal(id, KeyEncoding.Decode(key));
        }, iter: 20_000);
    }

    [Fact]
    public void Different_ids_have_different_keys()
    {
        Gen.Select(StorageKeyIds.Any, StorageKeyIds.Any).Sample((a, b) =>
        {
            if (a != b && TryEncode(a) is { } keyA && TryEncode(b) is { } keyB)
            {
                Assert.NotEqual(keyA, keyB);
            }
        }, iter: 20_000);

        // The pairs random strings rarely make: a lone surrogate and the replacement character (the
        // encoder used to write both as U+FFFD), an escape written out, one character and its code.
        string[] lookAlikes = ["a\uD800", "a\uFFFD", "a\uDC00", "\uD800\uDC00", "\uDC00\uD800", "~2E", ".", "~7E2E", "~.", "a/b", "a_b", "a~2Fb"];
        Assert.Equal(lookAlikes.Length, lookAlikes.Select(KeyEncoding.Encode).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>Keys of existing order streams are unchanged: for well-formed text the key is still each UTF-8 byte, kept or escaped.</summary>
    [Fact]
    public void Keys_of_well_formed_ids_are_what_the_encoder_always_made()
    {
        StorageKeyIds.Any.Where(id => id.Length < 100 && IsWellFormed(id)).Sample(id =>
        {
            var before = new StringBuilder();
            foreach (var b in Encoding.UTF8.GetBytes(id))
            {
                before.Append(b < 0x80 && (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_') ? ((char)b).ToString() : $"~{b:X2}");
            }

            Assert.Equal(before.ToString(), KeyEncoding.Encode(id));
        }, iter: 5_000);
    }

    /// <summary>
    /// A customer's grain key encodes the id, within a bound (a hash beyond it), so the row Orleans
    /// makes of it ('/' etc. replaced by '_') is legal and unique for any id; reports decode it.
    /// </summary>
    [Fact]
    public void Customer_keys_are_bounded_distinct_and_give_the_id_back()
    {
        Gen.Select(StorageKeyIds.Any, StorageKeyIds.Any).Sample((a, b) =>
        {
            var key = StatisticsKeys.Customer(3, a);
            Assert.Equal(3, StatisticsKeys.GenerationOf(key));
            Assert.InRange(StatisticsKeys.AfterGeneration(key).Length, 1, StatisticsKeys.MaxCustomerKeyLength);
            Assert.All(StatisticsKeys.AfterGeneration(key), c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '~', $"'{c}' in key {key}"));
            if (StatisticsKeys.CustomerIdOf(key) is { } decoded)
            {
                Assert.Equal(a, decoded);
                Assert.Equal("3/" + KeyEncoding.Encode(a), key);
            }
            else
            {
                Assert.StartsWith("3/" + KeyEncoding.HashedPrefix, key, StringComparison.Ordinal);
                Assert.True(a.Length > StatisticsKeys.MaxCustomerKeyLength / 9, $"A {a.Length}-character id was hashed."); // a UTF-16 unit encodes to at most 9 characters
            }

            if (a != b)
            {
                Assert.NotEqual(key.Replace('/', '_'), StatisticsKeys.Customer(3, b).Replace('/', '_'));
            }
        }, iter: 10_000);

        Assert.NotEqual(StatisticsKeys.Customer(1, "a/b").Replace('/', '_'), StatisticsKeys.Customer(1, "a_b").Replace('/', '_'));
        Assert.Equal("1/customer-7", StatisticsKeys.Customer(1, "customer-7"));
        Assert.Equal("1/poison~2Ecustomer", StatisticsKeys.Customer(1, "poison.customer"));
        Assert.Equal("1/customer-7~0A", StatisticsKeys.Customer(1, "customer-7\n"));
    }

    private static string? TryEncode(string id)
    {
        try
        {
            return KeyEncoding.Encode(id);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool IsWellFormed(string id)
    {
        for (var i = 0; i < id.Length; i++)
        {
            if (char.IsHighSurrogate(id[i]) && i + 1 < id.Length && char.IsLowSurrogate(id[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(id[i]))
            {
                return false;
            }
        }

        return true;
    }
}
