using Azure.Core.Pipeline;

namespace OrderFlow.Silo;

/// <summary>
/// An Azure SDK pipeline policy for the storage clients a silo builds for the system's own data:
/// the event log's tables (log, change index, rollback watch), the statistics' grain storage and
/// Azure Queue streams. Registered as a service (<c>services.AddSingleton(new StorageClientPolicy(p))</c>),
/// it sees every request those clients send, retries included. Nothing in the system registers one;
/// the benchmark counts storage transactions per command with it. The membership table's client is
/// built before services exist and does not get it.
/// </summary>
public sealed record StorageClientPolicy(HttpPipelinePolicy Policy);
