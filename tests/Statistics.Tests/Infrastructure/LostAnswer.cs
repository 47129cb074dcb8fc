using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>
/// Once armed, the next request is carried out by the storage and its answer lost: the caller
/// sees the service unavailable although the write landed (as when a request times out after
/// the server did its work).
/// </summary>
public sealed class LostAnswer : HttpPipelinePolicy
{
    private int armed;

    public void Arm() => Interlocked.Exchange(ref armed, 1);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        ThrowIfArmed();
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        ThrowIfArmed();
    }

    private void ThrowIfArmed()
    {
        if (Interlocked.Exchange(ref armed, 0) == 1)
        {
            throw new RequestFailedException(503, "Injected by the test: the request landed, its answer was lost.");
        }
    }
}
