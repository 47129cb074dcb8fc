using OrderFlow.Orders;

namespace OrderFlow.Customers;

/// <summary>The answer to a customer command: the customer after it, or why it was refused (same error codes as orders).</summary>
/// <param name="Replayed">True when the command had already been applied (same idempotency key) and nothing new was written.</param>
[GenerateSerializer, Immutable, Alias("orderflow.customer-command-result")]
public sealed record CustomerCommandResult(
    [property: Id(0)] CustomerView? Customer,
    [property: Id(1)] CommandError? Error,
    [property: Id(2)] bool Replayed = false)
{
    public static CustomerCommandResult Success(CustomerView customer, bool replayed = false) => new(customer, null, replayed);

    public static CustomerCommandResult Refused(CommandErrorCode code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(null, new CommandError(code, detail, errors));
}
