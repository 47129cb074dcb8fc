using System.Net;

namespace OrderFlow.Benchmarks;

/// <summary>The system answered a request with another status than the scenario expects (a 503 under overload, say).</summary>
public sealed class UnexpectedAnswerException(string message, HttpStatusCode status) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
