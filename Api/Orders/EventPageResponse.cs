using System.Text.Json;
using System.Text.Json.Serialization;
using OrderFlow.Orders;

namespace OrderFlow.Api.Orders;

/// <summary>GET /api/orders/{id}/events: a page of the order's log; <see cref="Next"/> is the URL of the next page.</summary>
public sealed record EventPageResponse(IReadOnlyList<EventResponse> Events, string? Next);

/// <summary>One event as the API shows it; <see cref="Data"/> is the event's own JSON.</summary>
/// <param name="PersonalDataErased">Personal members of <see cref="Data"/> were erased and read as null; only shown when true.</param>
public sealed record EventResponse(
    int Version,
    Guid EventId,
    string Type,
    int SchemaVersion,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    string? CorrelationId,
    string? CausationId,
    JsonElement Data,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool PersonalDataErased = false)
{
    public static EventResponse From(RecordedEvent e)
    {
        using var document = JsonDocument.Parse(e.Data);
        return new(e.Version, e.EventId, e.Type, e.SchemaVersion, e.OccurredAt, e.RecordedAt, e.CorrelationId, e.CausationId, document.RootElement.Clone(), e.PersonalDataErased);
    }
}
