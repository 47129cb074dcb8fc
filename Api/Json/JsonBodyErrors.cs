using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Api.Json;

/// <summary>
/// Turns the serializer's refusal of a request body into a validation error: the JSON path of
/// the field as the client sent it (<c>items[0].quantity</c>, <c>$</c> for the whole body) and a
/// plain-language message. The serializer's own messages name .NET types and are never shown.
/// </summary>
public static class JsonBodyErrors
{
    public static Dictionary<string, string[]> Describe(JsonException exception, Type? bodyType, JsonSerializerOptions options)
    {
        var path = exception.Path ?? "$";
        var message = exception switch
        {
            JsonInputException => exception.Message,
            // The reader's own exceptions (JsonReaderException) derive from JsonException.
            { InnerException: JsonException } => string.Create(CultureInfo.InvariantCulture,
                $"is not valid JSON at line {(exception.LineNumber ?? 0) + 1}, byte {(exception.BytePositionInLine ?? 0) + 1} (an unexpected character, an early end, or nesting deeper than {MaxDepth(options)} levels)"),
            // A repeated property is told apart only by its message: the serializer sets no other sign.
            _ when exception.Message.StartsWith("Duplicate property", StringComparison.Ordinal) =>
                "appears more than once (property names are matched ignoring case)",
            _ => Expected(bodyType, path, options) ?? "has a value of the wrong type",
        };
        return new Dictionary<string, string[]> { [ClientPath(path)] = [message] };
    }

    /// <summary>The serializer's nesting limit (0 means its default, 64).</summary>
    private static int MaxDepth(JsonSerializerOptions options) => options.MaxDepth == 0 ? 64 : options.MaxDepth;

    /// <summary>"$.items[0].quantity" becomes "items[0].quantity"; the whole body stays "$".</summary>
    public static string ClientPath(string path) =>
        path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
        : path.StartsWith("$[", StringComparison.Ordinal) && path.Length > 2 ? path[1..]
        : path;

    /// <summary>What the body's type expects at <paramref name="path"/>, in words; null when the path cannot be followed.</summary>
    private static string? Expected(Type? bodyType, string path, JsonSerializerOptions options)
    {
        if (bodyType is null)
        {
            return null;
        }

        var info = options.GetTypeInfo(bodyType);
        JsonPropertyInfo? property = null;
        foreach (var segment in Segments(path))
        {
            if (segment.Index)
            {
                if (info.Kind != JsonTypeInfoKind.Enumerable || info.ElementType is null)
                {
                    return null;
                }

                info = options.GetTypeInfo(info.ElementType);
                property = null;
            }
            else
            {
                property = info.Kind == JsonTypeInfoKind.Object
                    ? info.Properties.FirstOrDefault(p => string.Equals(p.Name, segment.Name, StringComparison.OrdinalIgnoreCase))
                    : null;
                if (property is null)
                {
                    return null;
                }

                info = options.GetTypeInfo(property.PropertyType);
            }
        }

        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        return info.Kind switch
        {
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "must be an object",
            JsonTypeInfoKind.Enumerable => "must be an array",
            _ when type == typeof(string) => "must be a string (of valid Unicode text)",
            // The only whole number a body holds; its own rule, not the serializer's range, is what the client can send.
            _ when type == typeof(int) && property?.AttributeProvider is System.Reflection.PropertyInfo { Name: nameof(OrderLineRequest.Quantity) } member && member.DeclaringType == typeof(OrderLineRequest) => OrderCommandValidator.QuantityRule,
            _ when type == typeof(int) => string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {int.MinValue:N0} to {int.MaxValue:N0}"),
            _ when type == typeof(bool) => "must be true or false",
            _ when type == typeof(decimal) => Money.NumberRule,
            _ when type == typeof(DateTimeOffset) => UtcDateTimeOffsetConverter.Rule,
            _ => null,
        };
    }

    /// <summary>The steps of a System.Text.Json path: <c>.name</c>, <c>['name']</c> and <c>[index]</c>.</summary>
    private static IEnumerable<(bool Index, string Name)> Segments(string path)
    {
        var i = path.StartsWith('$') ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                yield return (false, path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    yield break;
                }

                yield return (false, path[(i + 2)..end].Replace("\\'", "'", StringComparison.Ordinal));
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0)
                {
                    yield break;
                }

                yield return (true, path[(i + 1)..end]);
                i = end + 1;
            }
            else
            {
                yield break;
            }
        }
    }
}
