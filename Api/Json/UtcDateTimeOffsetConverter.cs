using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.Grains.Orders;

namespace OrderFlow.Api.Json;

/// <summary>
/// API.md: times are ISO 8601 UTC. Writes <c>2026-11-25T10:00:00.123Z</c>. Reads an ISO 8601 time
/// (or a date, meaning its midnight) in a body or a query string by one rule, <see cref="TryParse"/>:
/// an offset is honoured and converted to UTC, a time without one is UTC, and the result must lie
/// within [<see cref="MinTime"/>, <see cref="MaxTime"/>].
/// </summary>
public sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    /// <summary>Table storage keeps no earlier time (see <see cref="OrderCommandValidator.MinEventTime"/>).</summary>
    public static readonly DateTimeOffset MinTime = OrderCommandValidator.MinEventTime;

    /// <summary>
    /// A year short of the end of the calendar, so that the statistics' day and month arithmetic
    /// on a range's end never leaves the range DateTimeOffset can hold.
    /// </summary>
    public static readonly DateTimeOffset MaxTime = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly string Rule =
        $"must be an ISO 8601 time from {Format(MinTime)} to {Format(MaxTime)}, for example 2026-11-25T10:00:00Z";

    /// <summary>Longer than any ISO 8601 time with 7 decimals and an offset: refused without parsing.</summary>
    private const int MaxTextLength = 40;

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && TryParse(reader.GetString(), out var value) ? value : throw new JsonInputException(Rule);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Format(value));

    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses a time from a query string, where '+' may have arrived decoded as a space.</summary>
    public static bool TryParseQuery(string? text, out DateTimeOffset value) =>
        TryParse(text?.Replace(' ', '+'), out value);

    /// <summary>
    /// The one rule for times: the ISO 8601 profile System.Text.Json reads (a date, or a date and
    /// time with an optional fraction and offset), converted to UTC, within [MinTime, MaxTime].
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrEmpty(text) || text.Length > MaxTextLength || text.Any(c => c is '"' or '\\' || char.IsControl(c)))
        {
            return false;
        }

        // Without an offset the reader would assume the server's local zone: name UTC explicitly.
        var hasTime = text.Contains('T', StringComparison.Ordinal);
        var hasOffset = hasTime && (text.EndsWith('Z') || text.IndexOfAny(['+', '-'], text.IndexOf('T', StringComparison.Ordinal)) >= 0);
        var iso = hasOffset ? text : hasTime ? text + "Z" : text + "T00:00:00Z";

        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes("\"" + iso + "\""));
        if (!reader.Read() || !reader.TryGetDateTimeOffset(out var parsed))
        {
            return false; // not ISO 8601, or its UTC time is outside what DateTimeOffset holds
        }

        var utc = parsed.ToUniversalTime();
        if (utc < MinTime || utc > MaxTime)
        {
            return false;
        }

        value = utc;
        return true;
    }
}
