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
        var parked = Fake.Of<IParkedRecordsGrain>(method => method.Name == nameof(IParkedRecordsGrain.List)
            ? Task.FromException<ParkedRecords>(failure) : throw new NotSupportedException(method.ToString()));
        var check = new ParkedRecordsHealthCheck(Fake.Of<IGrainFactory>(method => method.ReturnType == typeof(IParkedRecordsGrain)
            ? parked : throw new NotSupportedException(method.ToString())));

        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.DoesNotContain("10.0.0.7", result.Description, StringComparison.Ordinal);
        Assert.Same(failure, result.Exception);
    }

    /// <summary>An interface implemented by <see cref="Of{T}"/>: every call answered by the function given, from the method called.</summary>
    public class Fake : DispatchProxy
    {
        private Func<MethodInfo, object?> answer = null!;

        public static T Of<T>(Func<MethodInfo, object?> answer)
            where T : class
        {
            var fake = Create<T, Fake>();
            ((Fake)(object)fake).answer = answer;
            return fake;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => answer(targetMethod!);
    }
}
