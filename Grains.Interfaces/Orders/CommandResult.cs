namespace OrderFlow.Orders;

/// <summary>The answer to a command: the order after it, or why it was refused.</summary>
/// <param name="Replayed">True when the command had already been applied (same idempotency key, payment or refund id) and nothing new was written.</param>
[GenerateSerializer, Immutable, Alias("orderflow.command-result")]
public sealed record CommandResult(
    [property: Id(0)] OrderView? Order,
    [property: Id(1)] CommandError? Error,
    [property: Id(2)] bool Replayed = false)
{
    public static CommandResult Success(OrderView order, bool replayed = false) => new(order, null, replayed);

    public static CommandResult Refused(CommandErrorCode code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(null, new CommandError(code, detail, errors));
}
