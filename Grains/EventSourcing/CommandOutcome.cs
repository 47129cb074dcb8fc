using OrderFlow.Orders;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>
/// How <see cref="EventSourcedGrain{TState,TEvent,TCommand,TEnvelope}"/> answered a command: the
/// aggregate's state at <paramref name="Version"/> afterwards, or the refusal; the grain makes its
/// own result type (a view) of it.
/// </summary>
/// <param name="Replayed">Nothing new was written: the command had already been applied (an idempotency key, or the decider said so).</param>
public sealed record CommandOutcome<TState>(TState? State, int Version, CommandError? Error, bool Replayed)
    where TState : class;
