using System.Text.RegularExpressions;

namespace OrderFlow.Orders;

/// <summary>
/// The one rule for ids (orders, customers, products, payments, refunds): 1–64 characters of
/// ASCII letters, digits, '-', '_' and '.'.
/// </summary>
public static partial class Identifiers
{
    public const int MaxLength = 64;

    public const string Rule = "must be 1–64 characters of letters, digits, '-', '_' or '.'";

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
