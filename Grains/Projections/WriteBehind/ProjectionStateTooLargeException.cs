using Azure;

namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>
/// A projection's state has outgrown its one table entity (README "Capacity" gives each
/// projection's envelope): its counts stay in memory and are not persisted, and the event log
/// is unaffected. Raised instead of the storage client's error so that the log says what happened.
/// </summary>
[GenerateSerializer, Alias("orderflow.projection-state-too-large")]
public sealed class ProjectionStateTooLargeException : Exception
{
    public ProjectionStateTooLargeException()
    {
    }

    public ProjectionStateTooLargeException(string message) : base(message)
    {
    }

    public ProjectionStateTooLargeException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>
    /// Whether <paramref name="exception"/> says an entity was too large: Orleans' own check before
    /// writing ("Data too large to write to Azure table"), or the service's (Azurite measures the
    /// request body, where binary properties are base64).
    /// </summary>
    public static bool IsCause(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RequestFailedException { ErrorCode: "EntityTooLarge" or "RequestBodyTooLarge" }
                || (e is ArgumentOutOfRangeException && e.Message.Contains("Data too large", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
