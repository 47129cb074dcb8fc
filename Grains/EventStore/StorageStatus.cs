using System.Net;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// The one rule for which storage answers mean "unavailable, retry later" rather than a refusal
/// of the request itself: the event log's error translation and the API's 503s both go by it.
/// </summary>
public static class StorageStatus
{
    /// <summary>
    /// No answer (status 0), a timeout, throttling, or a server-side failure; or storage refusing the
    /// silo's identity (401, 403: a role assignment not yet in effect, a key rotated, a firewall rule),
    /// which no request of a client could change and which an operator must mend.
    /// </summary>
    /// <summary>Storage refused the silo's identity (401, 403): it answers so before it processes the request.</summary>
    public static bool RefusesIdentity(int status) => status is (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden;

    public static bool MeansUnavailable(int status) =>
        status is 0 or (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500 || RefusesIdentity(status);
}
