using System.Collections.Immutable;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;

namespace OrderFlow.Grains.Orders;

/// <summary>What a command leads to: events to append, nothing (already applied), or a refusal.</summary>
public sealed record OrderDecision(ImmutableArray<OrderEvent> Events, CommandError? Error, bool AlreadyApplied)
{
    public static OrderDecision Append(params OrderEvent[] events) => new([.. events], null, false);

    public static OrderDecision Applied { get; } = new([], null, true);

    public static OrderDecision Refuse(CommandErrorCode code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new([], new CommandError(code, detail, errors), false);
}
