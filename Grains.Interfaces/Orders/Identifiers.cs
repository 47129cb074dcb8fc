namespace OrderFlow.Orders;

/// <summary>
/// The one rule for ids (orders, customers, products, payments, refunds): 1–64 characters of
/// ASCII letters, digits, '-', '_' and '.', and not made only of dots.
/// </summary>
/// <remarks>
/// A loop instead of a pattern: a regex's <c>$</c> also matches before a final newline, and an id
/// with a control character poisons every storage key made from it. An id of dots only ("." or
/// "..") is a dot-segment in a URL path: clients and servers remove it, so the order could never
/// be read back at /api/orders/{id}.
/// </remarks>
public static class Identifiers
{
    public const int MaxLength = 64;

    public const string Rule = "must be 1–64 characters of letters, digits, '-', '_' or '.', and not only dots";

    public static bool IsValid(string? id)
    {
        if (id is null || id.Length is 0 or > MaxLength)
        {
            return false;
        }

        var onlyDots = true;
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }

            onlyDots &= c == '.';
        }

        return !onlyDots;
    }
}
