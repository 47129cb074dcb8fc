using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.Orders;

namespace OrderFlow.Api.Json;

/// <summary>
/// Reads every whole number of a request (an order line's quantity) as JSON Schema's "integer"
/// does: any JSON number without a fractional part, so <c>2.0</c> and <c>1e1</c>, which clients
/// that keep numbers as floating point send, are 2 and 10. A string, a fraction (however many
/// digits it takes) or a number outside int's range is refused, and the body's error states the
/// field's rule (<see cref="JsonBodyErrors"/>). Writes whole numbers as JSON numbers; the API's
/// description still calls them integers (<c>ApiDescriptions</c>).
/// </summary>
public sealed class WholeNumberJsonConverter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt32(out var value))
            {
                return value;
            }

            // Read exactly, as money is: a decimal parsed from 0.99999999999999999999999999999 rounds to 1.
            var text = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
            if (Money.TryParseJsonNumber(text, out var number, out _) && decimal.Truncate(number) == number && number is >= int.MinValue and <= int.MaxValue)
            {
                return (int)number;
            }
        }

        throw new JsonException();
    }

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
