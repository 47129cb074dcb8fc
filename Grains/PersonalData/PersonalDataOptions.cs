namespace OrderFlow.Grains.PersonalData;

/// <summary>Configuration section <c>PersonalData</c>.</summary>
public sealed class PersonalDataOptions
{
    public const string Section = "PersonalData";

    /// <summary>The table of the data subjects' keys; by default the events table's name followed by "keys".</summary>
    public string? KeysTableName { get; set; }

    /// <summary>The keys' table of a deployment whose events table is <paramref name="eventsTable"/>.</summary>
    public string KeysTableNameFor(string eventsTable) => KeysTableName ?? eventsTable + "keys";

    /// <summary>
    /// How long a subject's key grain trusts the row it read before reading it again: only a change
    /// made around the grain (a restore of the key table) waits for it; an erasure through the grain
    /// is seen at once.
    /// </summary>
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The key that wraps the subjects' keys in the key table; none configured: they are stored in plain.</summary>
    public KeyEncryptionKeyOptions KeyEncryptionKey { get; set; } = new();
}
