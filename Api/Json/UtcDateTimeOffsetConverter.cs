using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrderFlow.Api.Json;

/// <summary>
/// API.md: times are ISO 8601 UTC. Writes <c>2026-11-25T10:00:00.123Z</c>; reads any ISO 8601
/// time, converting offsets to UTC and reading a time without an offset as UTC.
/// </summary>
public sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTime(out var value))
        {
            return ToUtc(value);
        }

        throw new JsonException("Expected an ISO 8601 time, for example 2026-11-25T10:00:00Z.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Format(value));

    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses a time from a query string, where '+' may have arrived decoded as a space.</summary>
    public static bool TryParseQuery(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var repaired = text.Trim().Replace(' ', '+');
        if (!DateTime.TryParse(repaired, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
            || !repaired.Contains('T', StringComparison.Ordinal) && repaired.Length != 10)
        {
            return false;
        }

        value = ToUtc(parsed);
        return true;
    }

    private static DateTimeOffset ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => new DateTimeOffset(value, TimeSpan.Zero),
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
    };
}
