using Azure.Data.Tables;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// The size Azure Table Storage charges an entity against <see cref="TableLimits.MaxEntityBytes"/>,
/// computed with the service's documented formula: 4 bytes + 2 bytes per key character + for each
/// property 8 bytes + 2 bytes per name character + the value's size (strings as UTF-16).
/// </summary>
public static class EntitySize
{
    public static int Of(TableEntity entity)
    {
        var size = 4 + (entity.PartitionKey.Length + entity.RowKey.Length) * 2;
        foreach (var (name, value) in entity)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")
            {
                continue;
            }

            size += 8 + name.Length * 2 + ValueSize(value);
        }

        return size;
    }

    private static int ValueSize(object? value) => value switch
    {
        null => 0,
        string s => 4 + s.Length * 2,
        byte[] bytes => 4 + bytes.Length,
        bool => 1,
        int => 4,
        long or double or DateTime or DateTimeOffset => 8,
        Guid => 16,
        _ => throw new ArgumentException($"Unsupported property type {value.GetType().Name}."),
    };
}
