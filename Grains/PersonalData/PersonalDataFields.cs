using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// The JSON names of a stored type's <see cref="PersonalDataAttribute"/> members (marked on the
/// property or on the record's constructor parameter). Only top-level members: a personal member
/// is encrypted as a whole, whatever its shape (an address is one field).
/// </summary>
public static class PersonalDataFields
{
    private static readonly ConcurrentDictionary<(Type, JsonSerializerOptions), string[]> Cache = new();

    public static IReadOnlyList<string> Of(Type type, JsonSerializerOptions options) =>
        Cache.GetOrAdd((type, options), static key => Find(key.Item1, key.Item2));

    private static string[] Find(Type type, JsonSerializerOptions options)
    {
        var markedParameters = type.GetConstructors()
            .SelectMany(constructor => constructor.GetParameters())
            .Where(parameter => parameter.IsDefined(typeof(PersonalDataAttribute)))
            .Select(parameter => parameter.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. options.GetTypeInfo(type).Properties
            .Where(property => property.AttributeProvider is MemberInfo member
                && (member.IsDefined(typeof(PersonalDataAttribute)) || markedParameters.Contains(member.Name)))
            .Select(property => property.Name)];
    }
}
