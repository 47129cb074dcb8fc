using System.Text.Json;

namespace OrderFlow.Api.Json;

/// <summary>
/// A JSON value this API's converters refuse, with a message written for the client ("must have
/// at most 2 decimals"). The serializer adds the JSON path and rethrows it unchanged, so the
/// message reaches the problem document's <c>errors</c> as it is.
/// </summary>
public sealed class JsonInputException(string message) : JsonException(message);
