namespace OrderFlow.Orders;

/// <summary>A refused command: nothing was written.</summary>
/// <param name="Errors">For <see cref="CommandErrorCode.Validation"/>: messages by field path (for example <c>items[0].quantity</c>).</param>
[GenerateSerializer, Immutable, Alias("orderflow.command-error")]
public sealed record CommandError(
    [property: Id(0)] CommandErrorCode Code,
    [property: Id(1)] string Detail,
    [property: Id(2)] IReadOnlyDictionary<string, string[]>? Errors = null);
