using System.Reflection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderFlow.Api.Operations;
using OrderFlow.Projections;

namespace OrderFlow.Api.Tests;

/// <summary>The parked-records check of /health/ready, an anonymous answer.</summary>
public sealed class ParkedRecordsHealthCheckTests
{
    /// <summary>
    /// Review finding: when the parked list could not be read, the check's description carried the
    /// exception's message, and Orleans' messages name silo addresses: the anonymous readiness answer
    /// showed them. The text stays with the exception (logged), as the table checks keep theirs.
    /// </summary>
    [Fact]
    public async Task A_parked_list_that_cannot_be_read_is_degraded_without_the_errors_text()
    {
        var failure = new TimeoutException("Response did not arrive on time for message [S10.0.0.7:11111:123456789 sys.svc.user.parked]");
        var check = new ParkedRecordsHealthCheck(FailingGrains.Create(failure));

        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.DoesNotContain("10.0.0.7", result.Description, StringComparison.Ordinal);
        Assert.Same(failure, result.Exception);
    }

    /// <summary>A grain factory whose parked-records grain fails every call with the given exception.</summary>
    public class FailingGrains : DispatchProxy
    {
        private Exception failure = null!;

        public static IGrainFactory Create(Exception failure)
        {
            var grains = DispatchProxy.Create<IGrainFactory, FailingGrains>();
            ((FailingGrains)(object)grains).failure = failure;
            return grains;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IGrainFactory.GetGrain) && targetMethod.ReturnType == typeof(IParkedRecordsGrain)
                ? FailingParkedRecords.Create(failure)
                : throw new NotSupportedException(targetMethod?.ToString());
    }

    public class FailingParkedRecords : DispatchProxy
    {
        private Exception failure = null!;

        public static IParkedRecordsGrain Create(Exception failure)
        {
            var grain = DispatchProxy.Create<IParkedRecordsGrain, FailingParkedRecords>();
            ((FailingParkedRecords)(object)grain).failure = failure;
            return grain;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IParkedRecordsGrain.List)
                ? Task.FromException<ParkedRecords>(failure)
                : throw new NotSupportedException(targetMethod?.ToString());
    }
}
