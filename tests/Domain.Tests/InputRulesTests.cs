using System.Globalization;
using System.Text;
using CsCheck;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Domain.Tests;

/// <summary>The rules for ids, text and money (issue 8 "Input, once and strictly"), as pure functions.</summary>
public sealed class InputRulesTests
{
    private static readonly DateTimeOffset Now = OrderBuilder.Start;

    [Theory]
    [InlineData("c\n")]
    [InlineData("c\r\n")]
    [InlineData("\nc")]
    [InlineData("c\u0000")]
    [InlineData("c\u0085")]
    public void An_id_with_a_control_character_is_refused_even_a_final_newline(string id)
    {
        Assert.False(Identifiers.IsValid(id));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("...")]
    [InlineData("................................................................")]
    public void An_id_made_only_of_dots_is_refused_because_it_cannot_be_read_back(string id)
    {
        Assert.False(Identifiers.IsValid(id));
    }

    [Theory]
    [InlineData("a")]
    [InlineData(".a")]
    [InlineData("a..")]
    [InlineData("order-1001_v2.3")]
    public void Ids_with_a_character_besides_dots_are_valid(string id)
    {
        Assert.True(Identifiers.IsValid(id));
    }

    private const string IdAlphabet = "abcXYZ019-_.";

    private static bool IdByDefinition(string s) =>
        s.Length is >= 1 and <= Identifiers.MaxLength
        && s.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.')
        && s.Any(c => c != '.');

    [Fact]
    public void Identifiers_follow_the_stated_rule_for_arbitrary_strings()
    {
        var mostlyIdChars = Gen.Frequency(
            (8, Gen.Char[IdAlphabet]),
            (1, Gen.Char),
            (1, Gen.Char['\0', '\u009f']));
        Gen.OneOf(Gen.String, mostlyIdChars.Array[0, 70].Select(chars => new string(chars)))
            .Sample(s => Identifiers.IsValid(s) == IdByDefinition(s), iter: 20_000);
    }

    [Fact]
    public void An_id_with_a_control_character_anywhere_is_never_valid()
    {
        Gen.Select(Gen.Char[IdAlphabet].Array[0, 63], Gen.OneOf(Gen.Char['\0', '\u001f'], Gen.Char['\u007f', '\u009f']), Gen.Int[0, 63], (chars, control, at) =>
            {
                var s = new string(chars);
                return s.Insert(Math.Min(at, s.Length), control.ToString());
            })
            .Sample(s => !Identifiers.IsValid(s), iter: 10_000);
    }

    public static TheoryData<string, OrderCommand> TextWithControlCharacters() => new()
    {
        { "method", new PayOrder("p", 1m, "card\n") },
        { "method", new PayOrder("p", 1m, "ca\u0000rd") },
        { "carrier", new ShipOrder("DHL\t", "T") },
        { "trackingNumber", new ShipOrder("DHL", "T\r") },
        { "reason", new CancelOrder("line one\nline two") },
        { "reason", new RefundOrder("r", 1m, "esc \u001b[31m") },
        { "reason", new CancelOrder("next line \u0085") },
        { "reason", new CancelOrder("unpaired \ud800 high surrogate") },
        { "reason", new CancelOrder("unpaired \udc00 low surrogate") },
        { "reason", new CancelOrder("ends with a high surrogate \ud83d") },
    };

    [Theory]
    [MemberData(nameof(TextWithControlCharacters))]
    public void Text_with_a_control_character_or_an_unpaired_surrogate_is_refused(string field, OrderCommand command)
    {
        Assert.Equal([field], OrderCommandValidator.Validate(command, Now).Keys);
    }

    [Theory]
    [InlineData("مرتجع \u200f right-to-left")]
    [InlineData("override \u202e txet")]
    [InlineData("parcel 📦 arrived broken 💔")]
    [InlineData("Zoë’s café — ok")]
    public void Bidi_marks_emoji_and_accents_are_text(string reason)
    {
        Assert.Empty(OrderCommandValidator.Validate(new CancelOrder(reason), Now));
    }

    /// <summary>
    /// README: at most 200 characters, emoji being text. A character is a Unicode scalar value, so an
    /// emoji outside the Basic Multilingual Plane (two UTF-16 units) counts once; 101 of them were refused.
    /// </summary>
    [Fact]
    public void Text_length_counts_characters_not_UTF16_units()
    {
        Gen.Select(Gen.Int[0, 260], Gen.Int[0, 260]).Where((letters, emoji) => letters + emoji > 0).Sample((letters, emoji) =>
        {
            var text = new string('a', letters) + string.Concat(Enumerable.Repeat("📦", emoji));
            var accepted = OrderCommandValidator.CheckText(text) is null;
            return accepted == (text.EnumerateRunes().Count() <= OrderCommandValidator.MaxTextLength);
        }, iter: 5_000);
        Assert.Null(OrderCommandValidator.CheckText(string.Concat(Enumerable.Repeat("📦", OrderCommandValidator.MaxTextLength))));
    }

    [Fact]
    public void Text_is_refused_exactly_when_it_has_a_control_character_or_an_unpaired_surrogate()
    {
        Gen.Char.Array[1, 50].Select(chars => new string(chars)).Sample(text =>
        {
            var clean = !string.IsNullOrWhiteSpace(text) && !text.Any(char.IsControl) && IsWellFormedUtf16(text);
            return (OrderCommandValidator.CheckText(text) is null) == clean;
        }, iter: 20_000);
    }

    private static bool IsWellFormedUtf16(string s)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(s);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData("1e-30")]
    [InlineData("1E-29")]
    [InlineData("0.00000000000000000000000000001")]
    [InlineData("1.00000000000001")]
    public void Money_with_more_decimals_than_a_decimal_holds_is_refused_as_written(string json)
    {
        Assert.False(Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Equal(Money.DecimalsRule, error);
    }

    [Theory]
    [InlineData("0.001", "0.001")]
    [InlineData("1.2345e1", "12.345")]
    [InlineData("123456789e-3", "123456.789")]
    [InlineData("1e-13", "0.0000000000001")]
    public void Money_with_a_third_decimal_is_read_exactly_and_refused_by_the_validator(string json, string exact)
    {
        Assert.True(Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out var value, out var error), error);
        Assert.Equal(decimal.Parse(exact, CultureInfo.InvariantCulture), value);
        Assert.False(Money.HasAtMostDecimals(value));
        Assert.Equal(["amount"], OrderCommandValidator.Validate(new PayOrder("p", value, "card"), Now).Keys);
    }

    [Theory]
    [InlineData("1e300")]
    [InlineData("1e16")]
    [InlineData("-1e15")]
    [InlineData("1e1000000000000000000000")]
    [InlineData("79228162514264337593543950336")]
    public void Money_out_of_range_is_refused_without_overflow(string json)
    {
        Assert.False(Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Equal(Money.RangeRule, error);
    }

    [Theory]
    [InlineData("1e2", "100")]
    [InlineData("1.234e1", "12.34")]
    [InlineData("1.50", "1.5")]
    [InlineData("1.500000", "1.5")]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("0e-999999999999", "0")]
    [InlineData("0.00", "0")]
    [InlineData("0.05", "0.05")]
    [InlineData("1050e-2", "10.5")]
    [InlineData("-19.99", "-19.99")]
    [InlineData("999999999999999.99", "999999999999999.99")]
    public void Money_with_at_most_2_decimals_is_read_exactly_in_any_notation(string json, string expected)
    {
        Assert.True(Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out var value, out var error), error);
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("01")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("+1")]
    [InlineData("1 ")]
    [InlineData("0x10")]
    public void Text_that_is_not_a_JSON_number_is_not_money(string json)
    {
        Assert.False(Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Equal(Money.NumberRule, error);
    }

    /// <summary>
    /// Whatever the notation, money passes (the JSON reading and then the validator's decimals
    /// check) exactly when the number written has at most 2 decimals and is below 10^15, and then
    /// it is the number written. The expectation is computed on the digits, independently.
    /// </summary>
    [Fact]
    public void Money_accepted_always_has_at_most_2_decimals_and_equals_the_number_written()
    {
        var number = Gen.Select(
            Gen.Bool,
            Gen.Char["0123456789"].Array[1, 20].Select(d => new string(d)),
            Gen.Char["0123456789"].Array[0, 6].Select(d => new string(d)),
            Gen.Int[-40, 40],
            (negative, integer, fraction, exponent) => (negative, integer: integer.Length > 1 ? "1" + integer[1..] : integer, fraction, exponent));
        number.Sample(n =>
        {
            var json = (n.negative ? "-" : "") + n.integer + (n.fraction.Length > 0 ? "." + n.fraction : "")
                + (n.exponent == 0 ? "" : "e" + n.exponent.ToString(CultureInfo.InvariantCulture));

            // The number is N × 10^e with N the digits written without trailing zeros.
            var digits = (n.integer + n.fraction).TrimStart('0');
            var e = (long)n.exponent - n.fraction.Length;
            var stripped = digits.TrimEnd('0');
            e += digits.Length - stripped.Length;
            var isZero = stripped.Length == 0;
            var expected = isZero || (-e <= Money.Decimals && stripped.Length + e <= Money.MaxIntegerDigits);

            var accepted = Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out var value, out _) && Money.HasAtMostDecimals(value);
            return accepted == expected
                && (!accepted || decimal.Parse(json, NumberStyles.Float, CultureInfo.InvariantCulture) == value);
        }, iter: 20_000);
    }

    [Fact]
    public void Every_amount_in_cents_is_read_back_exactly_from_any_exponent_form()
    {
        Gen.Select(Gen.Long[-99_999_999_999_999_999, 99_999_999_999_999_999], Gen.Bool, (cents, trailingZero) => (cents, trailingZero)).Sample(c =>
        {
            var value = c.cents / 100m;
            // The same value as mantissa and exponent: 1234e-2, or with a trailing zero 12340e-3.
            var json = c.trailingZero
                ? (c.cents * 10).ToString(CultureInfo.InvariantCulture) + "e-3"
                : c.cents.ToString(CultureInfo.InvariantCulture) + "e-2";
            return Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(json), out var read, out _) && read == value
                && Money.TryParseJsonNumber(Encoding.UTF8.GetBytes(value.ToString(CultureInfo.InvariantCulture)), out var plain, out _) && plain == value;
        }, iter: 20_000);
    }
}
