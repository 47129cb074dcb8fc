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

    /// <summary>A refusal of the command's fields, whatever the aggregate's state (<see cref="FromFieldsAlone"/>).</summary>
    public static Decision<TEvent> RefuseFields(IReadOnlyDictionary<string, string[]> errors) =>
        new([], new CommandError(CommandErrorCode.Validation, "The command has invalid fields.", errors), false) { FromFieldsAlone = true };

    /// <summary>
    /// Refused on the command's fields alone: no state, however fresh, would decide otherwise. Every
    /// other answer that writes nothing depends on the state (an event time before the previous
    /// event's is a validation error too), so it is given only on a view storage still holds, and a
    /// repeat's record is looked for first.
    /// </summary>
    public bool FromFieldsAlone { get; init; }
}
