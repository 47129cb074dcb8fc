namespace OrderFlow.Orders.Commands;

/// <summary>Who asked and why: recorded with every event the command produces.</summary>
/// <param name="CorrelationId">Ties together everything one business request caused.</param>
/// <param name="CausationId">What directly caused this command (a message or request id), if known.</param>
/// <param name="IdempotencyKey">
/// The client's key for this request: a command whose key was already applied writes nothing and
/// gets the first answer back. Keys are scoped to one order.
/// </param>
[GenerateSerializer, Immutable, Alias("orderflow.command-metadata")]
public sealed record CommandMetadata(
    [property: Id(0)] string? CorrelationId = null,
    [property: Id(1)] string? CausationId = null,
    [property: Id(2)] string? IdempotencyKey = null)
{
    public static CommandMetadata None { get; } = new();
}
