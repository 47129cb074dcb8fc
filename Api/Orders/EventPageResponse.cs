using System.Globalization;
using System.Text.Json;
using OrderFlow.Api.Errors;
using OrderFlow.Api.Json;
using System.Text.Json.Serialization;
using OrderFlow.Orders;

namespace OrderFlow.Api.Orders;

/// <summary>
/// GET /api/orders/{id}/events (and /api/customers/{id}/events): a page of one aggregate's log;
/// <see cref="Next"/> is the URL of the next page.
/// </summary>
public sealed record EventPageResponse(IReadOnlyList<EventResponse> Events, string? Next)
{
    public const int DefaultSize = 100;
    public const int MaxSize = 1000;

    public const string FromVersionDescription = "The first version to return; 1 when absent.";
    public const string LimitDescription = "How many events at most, 1 to 1000; 100 when absent.";
    public const string PagingRule = "fromVersion is not a whole number of at least 1, or limit is not from 1 to 1000";

    /// <summary>
    /// GET …/{id}/events of any aggregate: checks the id and the paging, reads the page with
    /// <paramref name="read"/> (null: no such aggregate, 404 <paramref name="notFound"/>).
    /// </summary>
    public static async Task<IResult> AnswerAsync(
        string id, string? fromVersion, string? limit, Func<int, int, Task<EventPage?>> read, string eventsPath, string notFound)
    {
        var errors = OrderRequestContext.CheckRouteId(id) ?? [];
        var (from, size) = ReadPaging(fromVersion, limit, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        return await read(from, size) is { } page ? TypedResults.Ok(From(page, eventsPath, size)) : Problems.NotFound(notFound);
    }

    /// <summary>The page asked for by the query parameters; what is wrong with them goes to <paramref name="errors"/>.</summary>
    public static (int From, int Size) ReadPaging(string? fromVersion, string? limit, Dictionary<string, string[]> errors)
    {
        var from = 1;
        var size = DefaultSize;
        if (fromVersion is not null && (!WholeNumbers.TryParse(fromVersion, out from) || from < 1))
        {
            errors["fromVersion"] = ["must be a whole number of at least 1"];
        }

        if (limit is not null && (!WholeNumbers.TryParse(limit, out size) || size is < 1 or > MaxSize))
        {
            errors["limit"] = [$"must be a whole number from 1 to {MaxSize}"];
        }

        return (from, size);
    }

    /// <summary>The answer for <paramref name="page"/> of the log at <paramref name="eventsPath"/> (/api/orders/{id}/events), pages of <paramref name="size"/>.</summary>
    public static EventPageResponse From(EventPage page, string eventsPath, int size)
    {
        var next = page.NextFromVersion is { } nextFrom
            ? string.Create(CultureInfo.InvariantCulture, $"{eventsPath}?fromVersion={nextFrom}&limit={size}")
            : null;
        return new([.. page.Events.Select(EventResponse.From)], next);
    }
}

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
