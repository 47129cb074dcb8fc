using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Streams;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// Orders publish through the silo's handle of their shard's stream (<see cref="EventStreamHandles"/>),
/// so that an activation holds no stream directory of its own: a silo holds every order touched
/// in the last minutes, and that directory was a large share of what each one took.
/// </summary>
public sealed class EventStreamHandlesTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task Orders_publish_through_the_silos_handles_and_keep_no_stream_directory_of_their_own()
    {
        var ids = Enumerable.Range(0, 12).Select(_ => NewOrderId()).ToList();
        foreach (var id in ids)
        {
            await cluster.Grain(id).SucceedAll(Place(id), Pay());
        }

        foreach (var id in ids)
        {
            Assert.Null(StreamDirectoryOf(cluster.Grain(id)));
        }

        // One handle per shard the orders fell in (this class has the cluster to itself); none if publication had failed.
        var handles = cluster.SiloServices.GetRequiredService<EventStreamHandles>();
        Assert.Equal(ids.Select(OrderEventStreams.ShardOf).Distinct().Count(), handles.Count);
    }

    /// <summary>
    /// The activation's own stream directory, if it made one: Orleans' internal <c>StreamDirectory</c>,
    /// kept among the components of the grain's context (<c>ActivationData</c>), found through the
    /// silo's internal activation directory. Read from the components as they are, since asking the
    /// context for it (<see cref="IGrainContext.GetComponent"/>) would make one.
    /// </summary>
    private object? StreamDirectoryOf(IAddressable grain)
    {
        var activations = cluster.SiloServices.GetRequiredService(RuntimeType("Orleans.Runtime.ActivationDirectory, Orleans.Runtime"));
        var findTarget = activations.GetType().GetMethod("FindTarget")
            ?? throw new InvalidOperationException("Orleans' activation directory no longer has FindTarget: find how to reach an activation now.");
        var context = findTarget.Invoke(activations, [grain.GetGrainId()])
            ?? throw new InvalidOperationException($"{grain.GetGrainId()} is not active on the silo.");
        var field = context.GetType().GetField("_extras", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Orleans no longer keeps an activation's components in ActivationData._extras: find where they are now.");
        var components = (System.Collections.IDictionary?)field.GetValue(context);
        return components?[RuntimeType("Orleans.Streams.StreamDirectory, Orleans.Streaming")];
    }

    private static Type RuntimeType(string name) =>
        Type.GetType(name) ?? throw new InvalidOperationException($"Orleans no longer has {name}: find where an activation keeps its streams now.");
}
