namespace OrderFlow.Statistics;

/// <summary>
/// No projection generation can answer statistics queries right now: the stored one was written
/// by an earlier build in a layout this build does not read, and a rebuild from the event log is
/// replacing it (or failed to). Orders are unaffected; the API answers 503.
/// </summary>
[GenerateSerializer, Alias("orderflow.statistics-unavailable")]
public sealed class StatisticsUnavailableException : Exception
{
    public StatisticsUnavailableException()
    {
    }

    public StatisticsUnavailableException(string message) : base(message)
    {
    }

    public StatisticsUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
