using System.Collections.Immutable;
using OrderFlow.Orders;

namespace OrderFlow.Grains.EventSourcing;

/// <summary>What a decider makes of a command: events to append, nothing (already applied), or a refusal.</summary>
public sealed record Decision<TEvent>(ImmutableArray<TEvent> Events, CommandError? Error, bool AlreadyApplied)
{
    public static Decision<TEvent> Append(params TEvent[] events) => new([.. events], null, false);

    public static Decision<TEvent> Applied { get; } = new([], null, true);

    public static Decision<TEvent> Refuse(CommandErrorCode code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new([], new CommandError(code, detail, errors), false);
}
