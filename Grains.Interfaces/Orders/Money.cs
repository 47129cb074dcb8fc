using System.Globalization;

namespace OrderFlow.Orders;

/// <summary>
/// The one rule for money (prices, payments, refunds): exact, with at most <see cref="Decimals"/>
/// decimals, and less than 10^<see cref="MaxIntegerDigits"/> in magnitude.
/// </summary>
/// <remarks>
/// A JSON number is read exactly, as written, before it becomes a <see cref="decimal"/>: parsing
/// <c>1e-30</c> as a decimal underflows to a zero that passes any decimals check, and a number
/// beyond the decimal range fails inside the parser with a message about .NET types. What a
/// decimal holds exactly is passed on, so that the command's validation reports a third decimal
/// together with the request's other errors.
/// </remarks>
public static class Money
{
    public const int Decimals = 2;

    /// <summary>Digits before the decimal point: far above any order total the rules allow, far below decimal's limit.</summary>
    public const int MaxIntegerDigits = 15;

    public static readonly string DecimalsRule = $"must have at most {Decimals} decimals";

    public static readonly string RangeRule = string.Create(CultureInfo.InvariantCulture,
        $"must be less than {Math.Pow(10, MaxIntegerDigits):N0} in magnitude");

    public const string NumberRule = "must be a JSON number, for example 19.99";

    /// <summary>Decimals read exactly: with <see cref="MaxIntegerDigits"/> that is 28 digits, all a decimal holds.</summary>
    public const int MaxExactDecimals = 28 - MaxIntegerDigits;

    /// <summary>Exponents beyond this are clamped: the value is then out of range or has too many decimals either way.</summary>
    private const int ExponentClamp = 1_000_000;

    public static bool HasAtMostDecimals(decimal value) => decimal.Round(value, Decimals) == value;

    /// <summary>
    /// Reads a JSON number (RFC 8259 grammar, UTF-8) exactly: <c>1e2</c> is 100, <c>1.50</c> and
    /// <c>150e-2</c> are 1.5, <c>1.2345e1</c> is 12.345 (which <see cref="HasAtMostDecimals"/> then refuses).
    /// Refused here: anything but a JSON number, a magnitude of 10^<see cref="MaxIntegerDigits"/> or more,
    /// and more than <see cref="MaxExactDecimals"/> decimals (<c>1e-30</c>), which no decimal holds exactly.
    /// </summary>
    /// <returns>False with <paramref name="error"/> (a rule above) when the text cannot be a money value.</returns>
    public static bool TryParseJsonNumber(ReadOnlySpan<byte> text, out decimal value, out string? error)
    {
        value = 0m;
        error = NumberRule;
        var i = 0;
        var negative = i < text.Length && text[i] == '-';
        if (negative)
        {
            i++;
        }

        var integerStart = i;
        while (i < text.Length && IsDigit(text[i]))
        {
            i++;
        }

        var integerDigits = text[integerStart..i];
        if (integerDigits.Length == 0 || (integerDigits.Length > 1 && integerDigits[0] == '0'))
        {
            return false;
        }

        ReadOnlySpan<byte> fractionDigits = [];
        if (i < text.Length && text[i] == '.')
        {
            var fractionStart = ++i;
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }

            fractionDigits = text[fractionStart..i];
            if (fractionDigits.Length == 0)
            {
                return false;
            }
        }

        long exponent = 0;
        if (i < text.Length && text[i] is (byte)'e' or (byte)'E')
        {
            i++;
            var exponentNegative = i < text.Length && text[i] == '-';
            if (i < text.Length && text[i] is (byte)'-' or (byte)'+')
            {
                i++;
            }

            var exponentStart = i;
            while (i < text.Length && IsDigit(text[i]))
            {
                exponent = Math.Min(exponent * 10 + (text[i] - '0'), ExponentClamp);
                i++;
            }

            if (i == exponentStart)
            {
                return false;
            }

            exponent = exponentNegative ? -exponent : exponent;
        }

        if (i != text.Length)
        {
            return false;
        }

        // The significant digits, and where the decimal point falls among them.
        var digits = new byte[integerDigits.Length + fractionDigits.Length];
        integerDigits.CopyTo(digits);
        fractionDigits.CopyTo(digits.AsSpan(integerDigits.Length));
        var significant = digits.AsSpan();
        long point = integerDigits.Length + exponent;
        var leadingZeros = significant.IndexOfAnyExcept((byte)'0');
        if (leadingZeros < 0)
        {
            error = null;
            return true; // zero, whatever its exponent
        }

        significant = significant[leadingZeros..];
        point -= leadingZeros;
        significant = significant[..(significant.LastIndexOfAnyExcept((byte)'0') + 1)];

        if (point > MaxIntegerDigits)
        {
            error = RangeRule;
            return false;
        }

        var decimals = significant.Length - point;
        if (decimals > MaxExactDecimals)
        {
            error = DecimalsRule;
            return false;
        }

        // At most 28 digits, which decimal parses exactly.
        var scale = (int)Math.Max(decimals, 0);
        var digitsText = System.Text.Encoding.ASCII.GetString(significant) + new string('0', (int)Math.Max(-decimals, 0));
        if (scale > 0)
        {
            digitsText = digitsText.PadLeft(scale + 1, '0').Insert(Math.Max(digitsText.Length, scale + 1) - scale, ".");
        }

        var magnitude = decimal.Parse(digitsText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        value = negative ? -magnitude : magnitude;
        error = null;
        return true;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
