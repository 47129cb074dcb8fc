namespace OrderFlow.Orders;

/// <summary>Why a command was refused. Each maps to one HTTP status in the API.</summary>
[GenerateSerializer, Alias("orderflow.command-error-code")]
public enum CommandErrorCode
{
    /// <summary>The command is malformed (400); <see cref="CommandError.Errors"/> lists the fields.</summary>
    Validation = 1,
    /// <summary>The order does not exist (404).</summary>
    NotFound,
    /// <summary>An order with this id exists already (409).</summary>
    AlreadyExists,
    /// <summary>The order's status does not allow the command (409).</summary>
    InvalidTransition,
    /// <summary>Well-formed but wrong for this order: amount mismatch, over-refund, reused idempotency key (422).</summary>
    Unprocessable,
    /// <summary>Other writers kept winning the race; nothing was written and the client may retry (409).</summary>
    Concurrency,
    /// <summary>The resulting events do not fit the storage limits (413).</summary>
    TooLarge,
}
