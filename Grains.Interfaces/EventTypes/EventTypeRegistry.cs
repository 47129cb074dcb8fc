using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace OrderFlow.EventTypes;

/// <summary>
/// Every event type of one event source (the concrete types derived from
/// <typeparamref name="TEvent"/> in its assembly), as their <see cref="StoredEventAttribute"/>
/// declares them. The serializer, the envelopes and the projections look stored names up here.
/// </summary>
public static class EventTypeRegistry<TEvent>
    where TEvent : class
{
    /// <summary>Every declared event type, ordered by stored name.</summary>
    public static IReadOnlyList<EventType> All { get; } = Declared();

    /// <summary>Event types that lack <see cref="StoredEventAttribute"/>: none in a correct build (a test checks).</summary>
    public static IReadOnlyList<Type> Undeclared { get; } =
        [.. DerivedTypes().Where(type => type.GetCustomAttribute<StoredEventAttribute>() is null)];

    private static readonly FrozenDictionary<string, EventType> ByName = All.ToFrozenDictionary(type => type.StoredName, StringComparer.Ordinal);

    private static readonly FrozenDictionary<Type, EventType> ByClrType = All.ToFrozenDictionary(type => type.ClrType);

    public static EventType Of<T>()
        where T : TEvent => Of(typeof(T));

    public static EventType Of(TEvent @event) => Of(@event.GetType());

    public static EventType Of(Type clrType) =>
        ByClrType.TryGetValue(clrType, out var type)
            ? type
            : throw new InvalidOperationException($"{clrType.Name} has no [StoredEvent] declaring its stored name.");

    public static bool TryFind(string storedName, [NotNullWhen(true)] out EventType? type) => ByName.TryGetValue(storedName, out type);

    private static IEnumerable<Type> DerivedTypes() =>
        typeof(TEvent).Assembly.GetTypes().Where(type => type.IsClass && !type.IsAbstract && type.IsAssignableTo(typeof(TEvent)));

    private static List<EventType> Declared()
    {
        var declared = DerivedTypes()
            .Select(type => (Type: type, Declaration: type.GetCustomAttribute<StoredEventAttribute>()))
            .Where(pair => pair.Declaration is not null)
            .Select(pair => new EventType(pair.Type, pair.Declaration!.Name, pair.Declaration.SchemaVersion))
            .OrderBy(type => type.StoredName, StringComparer.Ordinal)
            .ToList();

        // Two types under one name, or a version below 1, would misread stored rows: refuse to start.
        if (declared.GroupBy(type => type.StoredName, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1) is { } clash)
        {
            throw new InvalidOperationException($"Event types {string.Join(", ", clash.Select(type => type.ClrType.Name))} share the stored name '{clash.Key}'.");
        }

        if (declared.FirstOrDefault(type => type.SchemaVersion < 1) is { } unversioned)
        {
            throw new InvalidOperationException($"{unversioned.ClrType.Name} declares schema version {unversioned.SchemaVersion}; versions start at 1.");
        }

        return declared;
    }
}
