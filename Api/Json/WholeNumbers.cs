using System.Globalization;

namespace OrderFlow.Api.Json;

/// <summary>The one rule for whole numbers in a query string: ASCII digits only, nothing around them.</summary>
public static class WholeNumbers
{
    /// <remarks><see cref="NumberStyles.None"/> alone would take trailing NUL characters ("1%00" read as 1).</remarks>
    public static bool TryParse(string text, out int value)
    {
        value = 0;
        return text.Length > 0 && !text.AsSpan().ContainsAnyExceptInRange('0', '9') && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
