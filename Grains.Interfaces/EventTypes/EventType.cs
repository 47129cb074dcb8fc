namespace OrderFlow.EventTypes;

/// <summary>One event type as stored: its CLR type, its stored name and its current schema version.</summary>
public sealed record EventType(Type ClrType, string StoredName, int SchemaVersion);
