using OrderFlow.Grains.Orders;
using OrderFlow.Orders;

namespace OrderFlow.Grains.Validation;

/// <summary>
/// The validation errors of one command, keyed by the JSON path of the field as the client sent it,
/// with the shared field rules (ids, free text, money, countries, event times), so that every
/// command validator words a rule the same way.
/// </summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> byField = [];

    public void Add(string field, string message)
    {
        if (!byField.TryGetValue(field, out var messages))
        {
            byField[field] = messages = [];
        }

        messages.Add(message);
    }

    public void Id(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            Add(field, "is required");
        }
        else if (!Identifiers.IsValid(value))
        {
            Add(field, Identifiers.Rule);
        }
    }

    /// <summary>Free text by <see cref="OrderCommandValidator.CheckText"/>.</summary>
    public void Text(string field, string? value)
    {
        if (OrderCommandValidator.CheckText(value) is { } problem)
        {
            Add(field, problem);
        }
    }

    public void Money(string field, decimal? value, bool allowZero)
    {
        if (value is not { } amount)
        {
            Add(field, "is required");
        }
        else if (amount < 0 || (!allowZero && amount == 0))
        {
            Add(field, allowZero ? "must not be negative" : "must be positive");
        }
        else if (!OrderFlow.Orders.Money.HasAtMostDecimals(amount))
        {
            Add(field, OrderFlow.Orders.Money.DecimalsRule);
        }
    }

    /// <summary>A required ISO 3166-1 alpha-2 code (<see cref="CountryCodes"/>).</summary>
    public void Country(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            Add(field, "is required");
        }
        else if (!CountryCodes.IsValid(value))
        {
            Add(field, CountryCodes.Rule);
        }
    }

    /// <summary>
    /// An optional event time: not ahead of <paramref name="now"/> by more than
    /// <see cref="OrderCommandValidator.MaxClockSkew"/>, not before <see cref="OrderCommandValidator.MinEventTime"/>.
    /// </summary>
    public void EventTime(string field, DateTimeOffset? occurredAt, DateTimeOffset now)
    {
        if (occurredAt > now + OrderCommandValidator.MaxClockSkew)
        {
            Add(field, $"must not lie in the future (more than {OrderCommandValidator.MaxClockSkew.TotalSeconds:0} s after the server's clock, {now:O})");
        }
        else if (occurredAt < OrderCommandValidator.MinEventTime)
        {
            Add(field, $"must not be before {OrderCommandValidator.MinEventTime:yyyy-MM-dd} (the earliest time table storage keeps)");
        }
    }

    public Dictionary<string, string[]> ToDictionary() => byField.ToDictionary(p => p.Key, p => p.Value.ToArray());
}
