using System.Runtime.CompilerServices;
using OrderFlow.Silo;

namespace OrderFlow.Api.Tests.Telemetry;

/// <summary>
/// Azure.Core reads its span switch once per process, at its first use; the hosts turn it on as
/// they start (<see cref="OrderFlowOpenTelemetry.AddOrderFlowOpenTelemetry"/>), before their first
/// Azure SDK call. In this process the tests' own storage calls can come first, so it is on from
/// the start, as it is in a host's process.
/// </summary>
internal static class AzureSdkSpansSwitch
{
    [ModuleInitializer]
    internal static void TurnOn() => AppContext.SetSwitch(OrderFlowOpenTelemetry.AzureSdkActivitySourceSwitch, true);
}
