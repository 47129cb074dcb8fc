using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Statistics.Tests.Model;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>An order grain's publication bookkeeping when its background republication interleaves with commands.</summary>
public sealed class RepublicationTests(AzuriteFixture azurite)
{
    /// <summary>
    /// Found by an audit: a background republication (of versions a dead writer had not published)
    /// that ended after a later command's publication failed took the failure as made good, so the
    /// next reload trusted the stored marker, which claimed that command's version published, and
    /// this activation never published it (only the reconciliation, minutes later, would have).
    /// </summary>
    [Fact]
    public async Task A_publication_that_failed_while_a_background_republication_ran_is_made_good_after_a_reload()
    {
        var ct = TestContext.Current.CancellationToken;
        var gate = new QueueSendGate();
        await using var queues = await Azurite.StartQueuesAsync(ct);
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("republish"), ct,
            new Dictionary<string, string?>
            {
                ["Statistics:Reconciliation:Enabled"] = "false",
                [Silo.OrderFlowSiloExtensions.StreamsProviderKey] = "AzureQueue",
                ["ConnectionStrings:Queues"] = queues.ConnectionString,
            },
            silo => silo.Services.AddSingleton(new Silo.StorageClientPolicy(gate)));
        var at = TestClock.Day0.AddHours(10);
        var plan = new OrderPlan("republish-order", "republish-customer", "EUR", [new Line("SKU-R", 2, 50m)],
        [
            new Step(StepKind.Place, at),
            new Step(StepKind.Pay, at.AddMinutes(1), 100m, "republish-pay"),
            new Step(StepKind.Ship, at.AddMinutes(2)),
            new Step(StepKind.Deliver, at.AddMinutes(3)),
            new Step(StepKind.Refund, at.AddMinutes(4), 10m, "republish-refund-1"),
            new Step(StepKind.Refund, at.AddMinutes(5), 10m, "republish-refund-2"),
            new Step(StepKind.Refund, at.AddMinutes(6), 10m, "republish-refund-3"),
        ]);

        // A writer appended versions 1–3 and died before publishing them.
        await LogWriter.AppendAsync(cluster.Store, plan, 1, 3, publishedThrough: 0, ct);

        // The grain's load republishes them in the background: held at its first send.
        gate.HoldNext();
        await cluster.Order(plan.OrderId).Get();
        await gate.Holding.WaitAsync(TimeSpan.FromMinutes(1), ct);

        // Version 4 is published with 1–3 before it; version 5's publication fails, its stored marker saying 5.
        await ExecuteAsync(cluster, plan, 3);
        gate.FailNext();
        await ExecuteAsync(cluster, plan, 4);
        Assert.True(gate.Failed, "The publication of version 5 was not refused.");

        // The background republication ends (its three sends; the grain's turn that ends it is queued
        // as the last one returns, before the next call reaches the grain).
        var sentBefore = gate.Sent;
        gate.Release();
        await Eventually.UntilAsync(() => Task.FromResult(gate.Sent >= sentBefore + 3), "the background republication's sends", ct, TimeSpan.FromMinutes(1));
        await cluster.Order(plan.OrderId).Get();

        // Another writer appends version 6 (its marker, 5, as stored): the grain's next command conflicts and reloads.
        await LogWriter.AppendAsync(cluster.Store, plan, 6, 6, publishedThrough: 5, ct);
        await ExecuteAsync(cluster, plan, 6);

        var expected = await cluster.ExpectedFromLogAsync(ct);
        Assert.Equal(7, (await cluster.ReadLogAsync(ct))[plan.OrderId].Count);
        await StatsCheck.AssertConvergesAsync(cluster.Reader, expected, new CheckPlan([(null, null)], [], [5]), TimeSpan.FromSeconds(30), ct,
            "statistics counting every version, the one whose publication failed included");
    }

    private static async Task ExecuteAsync(StatsCluster cluster, OrderPlan plan, int step)
    {
        var result = await cluster.Order(plan.OrderId).Execute(plan.Command(plan.Steps[step]), CommandMetadata.None);
        Assert.True(result.Error is null, $"{plan.Steps[step].Kind}: {result.Error}");
    }

    /// <summary>Holds the next message sent to a storage queue until released, or refuses it before it is sent.</summary>
    private sealed class QueueSendGate : HttpPipelinePolicy
    {
        private readonly TaskCompletionSource holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int holdNext;
        private int failNext;
        private int failed;
        private int sent;

        public Task Holding => holding.Task;

        public bool Failed => Volatile.Read(ref failed) == 1;

        public int Sent => Volatile.Read(ref sent);

        public void HoldNext() => Interlocked.Exchange(ref holdNext, 1);

        public void FailNext() => Interlocked.Exchange(ref failNext, 1);

        public void Release() => released.TrySetResult();

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var send = message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("/messages", StringComparison.Ordinal);
            if (send && Interlocked.Exchange(ref failNext, 0) == 1)
            {
                Interlocked.Exchange(ref failed, 1);
                throw new RequestFailedException(403, "Injected by the test: the message was refused before it was sent.");
            }

            if (send && Interlocked.Exchange(ref holdNext, 0) == 1)
            {
                holding.TrySetResult();
                await released.Task;
            }

            await ProcessNextAsync(message, pipeline);
            if (send)
            {
                Interlocked.Increment(ref sent);
            }
        }
    }
}
