using System.Net.Sockets;
using Azure;
using Azure.Identity;
using Orleans.Networking.Shared;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using OrderFlow.Grains.EventStore;
using OrderFlow.Storage;

namespace OrderFlow.Api.Errors;

/// <summary>What did not answer, if an exception means that something did not (worth a 503 and a retry) rather than a programming error (a 500).</summary>
public enum UnavailableCause
{
    None,
    Storage,
    Cluster,
}

/// <summary>
/// Tells unavailability from bugs. Failures reach the API wrapped in other exceptions: Orleans
/// grain storage raises an <see cref="OrleansException"/> around the Azure SDK's
/// <see cref="AggregateException"/> of every retried attempt, each a timeout or a refused
/// connection. A wrapper counts as unavailability only if everything it wraps does, so a bug
/// stays a 500.
/// </summary>
public static class Unavailability
{
    public static UnavailableCause CauseOf(Exception exception) => CauseOf(exception, wrapped: false);

    /// <param name="wrapped">
    /// Inside a storage or cluster failure. Only there do transport errors (I/O, sockets, HTTP)
    /// speak of storage: on their own they come from the request being served (a client that went
    /// away, a body Kestrel could not read), which is no reason for a 503.
    /// </param>
    private static UnavailableCause CauseOf(Exception exception, bool wrapped) => exception switch
    {
        BadHttpRequestException => UnavailableCause.None,
        AggregateException { InnerExceptions.Count: > 0 } aggregate => Combine(aggregate.InnerExceptions.Select(inner => CauseOf(inner, wrapped: true))),
        RequestFailedException failed => StorageStatus.MeansUnavailable(failed.Status) ? UnavailableCause.Storage : UnavailableCause.None,
        StorageUnavailableException => UnavailableCause.Storage, // the statistics' grain storage says so itself, inside Orleans' wrapper
        AuthenticationFailedException => UnavailableCause.Storage, // no token for the identity storage is reached with
        HttpRequestException or IOException or SocketException when wrapped => UnavailableCause.Storage,
        OperationCanceledException => UnavailableCause.Storage,
        // Before the OrleansException rule below: a lost connection to a silo or gateway wraps a
        // socket error, which says nothing about storage.
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or GatewayTooBusyException
            or ConnectionFailedException or SocketConnectionException or ClientNotAvailableException => UnavailableCause.Cluster,
        OrleansException { InnerException: { } inner } => CauseOf(inner, wrapped: true),
        OrleansException { InnerException: null } bare when bare.GetType() == typeof(OrleansException) && IsDirectoryInFlux(bare.Message) => UnavailableCause.Cluster,
        _ => UnavailableCause.None,
    };

    /// <summary>
    /// What Orleans' grain directory says, in a bare <see cref="OrleansException"/> handed to the
    /// caller as it is, while membership changes (a silo died, or one joined that not every silo
    /// knows yet): a new activation could not be registered or looked up, and nothing ran. Orleans
    /// gives these no type of their own (Orleans.Runtime/GrainDirectory: LocalGrainDirectoryPartition,
    /// LocalGrainDirectory); any other bare OrleansException stays a 500.
    /// </summary>
    private static readonly string[] DirectoryInFlux =
    [
        " on invalid silo: ",                     // "Trying to register {grain} on invalid silo: {silo}. Known status: Dead"
        " is not stable to perform the lookup ",  // "Current directory at {silo} is not stable to perform the lookup for grainId … Retry later."
        " because hop limit is reached",           // "Silo {silo} is not owner of {grain}, cannot forward {operation} to owner {owner} because hop limit is reached"
    ];

    private static bool IsDirectoryInFlux(string message) => DirectoryInFlux.Any(marker => message.Contains(marker, StringComparison.Ordinal));

    private static UnavailableCause Combine(IEnumerable<UnavailableCause> causes)
    {
        var all = causes.ToList();
        return all.Contains(UnavailableCause.None) ? UnavailableCause.None
            : all.Contains(UnavailableCause.Storage) ? UnavailableCause.Storage
            : UnavailableCause.Cluster;
    }
}
