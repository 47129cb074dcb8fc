using System.Globalization;
using Azure.Data.Tables;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Stores a JSON payload larger than one string property (64 KiB) across numbered properties
/// <c>Data</c>, <c>Data1</c>, <c>Data2</c>… with the count in <c>DataChunks</c>, and joins it on read.
/// The entity as a whole is still bounded by <see cref="TableLimits.MaxEntityBytes"/>.
/// </summary>
public static class ChunkedPayload
{
    public const string CountProperty = "DataChunks";
    private const string ChunkProperty = "Data";

    public static void Write(TableEntity entity, string json)
    {
        var chunks = 0;
        for (var start = 0; start < json.Length || chunks == 0; chunks++)
        {
            var length = Math.Min(TableLimits.PayloadChunkChars, json.Length - start);
            if (length > 0 && start + length < json.Length && char.IsHighSurrogate(json[start + length - 1]))
            {
                length--; // never split a surrogate pair across two properties
            }

            entity[ChunkName(chunks)] = json.Substring(start, length);
            start += length;
        }

        entity[CountProperty] = chunks;
        if (entity.Count > TableLimits.MaxUserProperties + 2)
        {
            throw new EventTooLargeException(entity.PartitionKey, EntitySize.Of(entity), TableLimits.MaxEntityBytes);
        }
    }

    public static string Read(TableEntity entity)
    {
        var chunks = entity.GetInt32(CountProperty) ?? 1;
        if (chunks is < 1 or > TableLimits.MaxUserProperties)
        {
            throw new InvalidDataException($"Row {entity.PartitionKey}/{entity.RowKey} names {chunks} payload chunks; a row holds 1 to {TableLimits.MaxUserProperties}.");
        }

        if (chunks == 1)
        {
            return entity.GetString(ChunkName(0)) ?? string.Empty;
        }

        var parts = new string[chunks];
        for (var i = 0; i < chunks; i++)
        {
            parts[i] = entity.GetString(ChunkName(i))
                ?? throw new InvalidDataException($"Row {entity.PartitionKey}/{entity.RowKey} lacks payload chunk {i} of {chunks}.");
        }

        return string.Concat(parts);
    }

    private static string ChunkName(int index) =>
        index == 0 ? ChunkProperty : ChunkProperty + index.ToString(CultureInfo.InvariantCulture);
}
