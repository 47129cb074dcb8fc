namespace OrderFlow.Api.Customers;

/// <summary>
/// The body of POST /api/customers/{id}/erasure, all of it optional. Who asked is never read from
/// the body: the API records the authenticated caller.
/// </summary>
/// <param name="OccurredAt">Event time of the erasure; now when absent.</param>
public sealed record ErasureRequest(DateTimeOffset? OccurredAt = null);
