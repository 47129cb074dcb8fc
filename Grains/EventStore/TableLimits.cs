namespace OrderFlow.Grains.EventStore;

/// <summary>
/// Azure Table Storage limits that the event log is designed around. They are enforced here,
/// before a request is sent, so that a user sees a clear error instead of a storage failure.
/// Source: "Understanding the Table service data model" and "Performing entity group transactions".
/// </summary>
public static class TableLimits
{
    /// <summary>An entity group transaction holds at most 100 entities, all in one partition.</summary>
    public const int MaxEntitiesPerTransaction = 100;

    /// <summary>The whole transaction request may not exceed 4 MiB.</summary>
    public const int MaxTransactionBytes = 4 * 1024 * 1024;

    /// <summary>One entity, keys and all properties included, may not exceed 1 MiB.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>
    /// A string property holds at most 64 KiB, stored as UTF-16: 32,768 code units. Payload
    /// chunks stay a little below so that a surrogate pair is never split across chunks.
    /// </summary>
    public const int MaxStringPropertyChars = 32 * 1024;

    /// <summary>A binary property holds at most 64 KiB.</summary>
    public const int MaxBinaryPropertyBytes = 64 * 1024;

    /// <summary>Chunk size for payloads split across properties (see <see cref="MaxStringPropertyChars"/>).</summary>
    public const int PayloadChunkChars = MaxStringPropertyChars - 1;

    /// <summary>An entity has at most 255 properties, of which PartitionKey, RowKey and Timestamp are three.</summary>
    public const int MaxUserProperties = 252;

    /// <summary>PartitionKey and RowKey are each at most 1 KiB of UTF-16: 512 characters.</summary>
    public const int MaxKeyChars = 512;

    /// <summary>A table name is 3 to 63 characters, ASCII letters and digits, beginning with a letter.</summary>
    public const int MaxTableNameChars = 63;

    /// <summary>What a valid table name is, for messages that refuse one.</summary>
    public static readonly string TableNameRule = $"3 to {MaxTableNameChars} ASCII letters and digits, beginning with a letter";

    /// <summary>Whether <paramref name="name"/> is a valid table name (<see cref="TableNameRule"/>).</summary>
    public static bool IsValidTableName(string? name) =>
        name is { Length: >= 3 and <= MaxTableNameChars } && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit);

    /// <summary>
    /// The scalability target of one partition: about 2,000 entities (1 KiB each) per second;
    /// beyond it the service answers 503 Server Busy. Not enforced: layouts are sized by it.
    /// </summary>
    public const int EntitiesPerSecondPerPartition = 2_000;
}
