using System.Globalization;

namespace OrderFlow.Grains.EventStore;

/// <summary>
/// An event (or the whole append) exceeds a storage limit. Events are never truncated: the append
/// is refused and nothing is written.
/// </summary>
/// <param name="size">The bytes the append needs; negative when only storage's refusal says it is too large.</param>
public sealed class EventTooLargeException(string streamId, long size, long limit)
    : Exception(size >= 0
        ? string.Create(CultureInfo.InvariantCulture, $"An append to stream '{streamId}' needs {size:N0} bytes of table storage; the limit is {limit:N0} bytes. Nothing was written.")
        : string.Create(CultureInfo.InvariantCulture, $"An append to stream '{streamId}' is larger than table storage accepts (an entity holds at most {limit:N0} bytes). Nothing was written."))
{
    public string StreamId { get; } = streamId;

    public long Size { get; } = size;

    public long Limit { get; } = limit;
}
