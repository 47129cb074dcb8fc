namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Categories of event streams (one per aggregate type, declared by its
/// <see cref="EventSourcing.EventSource{TState,TEvent,TEnvelope}.Category"/>). A stream id is
/// unique within its category only: an order and a customer may share one.
/// </summary>
public static class StreamCategories
{
    /// <summary>
    /// Orders: the category whose streams predate categories. Its log is the table
    /// <see cref="EventStoreOptions.TableName"/> itself, and change-index rows without a category are its.
    /// </summary>
    public const string Order = "order";

    /// <summary>A category is lower-case ASCII letters: it becomes part of a table name and of change-index keys.</summary>
    public static bool IsValid(string category) => category.Length > 0 && category.All(char.IsAsciiLetterLower);
}
