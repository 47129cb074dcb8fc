using OrderFlow.Grains.Projections.Generations;

namespace OrderFlow.Grains.Statistics.Months;

/// <summary>
/// A month holds a revision of a day other than the one the day's push follows: the two are out of
/// step (storage lost a write of one of them). No push can bring them back in step; the month has
/// asked for the projections to be re-derived from the log (<see cref="IProjectionControl.RequestRepair"/>).
/// </summary>
[GenerateSerializer, Alias("orderflow.month-out-of-step")]
public sealed class MonthOutOfStepException : Exception
{
    public MonthOutOfStepException()
    {
    }

    public MonthOutOfStepException(string message) : base(message)
    {
    }

    public MonthOutOfStepException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
