namespace OrderFlow.EventTypes;

/// <summary>
/// Declares how an event type is stored: the name written to the log's <c>Type</c> column (never
/// the CLR name, so that a class can be renamed) and the schema version its JSON has now. Every
/// concrete event type carries it; <see cref="EventTypeRegistry{TEvent}"/> reads it.
/// </summary>
/// <param name="name">The stored name. It never changes once written: existing rows carry it.</param>
/// <param name="schemaVersion">
/// The version of the type's JSON shape. Raise it when the shape changes, and add the step from the
/// old version to the new one to the type's upcaster (README "Schema versions").
/// </param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class StoredEventAttribute(string name, int schemaVersion = 1) : Attribute
{
    public string Name { get; } = name;

    public int SchemaVersion { get; } = schemaVersion;
}
