using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.Orders;

namespace OrderFlow.Api.Json;

/// <summary>
/// Reads every decimal of a request (the API's decimals are money: unit prices and amounts) by
/// <see cref="Money.TryParseJsonNumber"/>, on the number as the client wrote it. Writes decimals as JSON numbers.
/// </summary>
public sealed class MoneyJsonConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new JsonInputException(Money.NumberRule);
        }

        var text = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        return Money.TryParseJsonNumber(text, out var value, out var error) ? value : throw new JsonInputException(error!);
    }

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
