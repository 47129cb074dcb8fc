using OrderFlow.Grains.Projections;
using OrderFlow.Orders;
using OrderFlow.Orders.Events;
using OrderFlow.Streams;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// README "Adding a projection": every projection in <see cref="ProjectionRegistry"/> consumes
/// events by their stored names, and maps each event it consumes to a grain key of the generation.
/// Each check also runs over a deliberately wrong definition, so that it is seen to fail.
/// </summary>
public sealed class ProjectionRegistryTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_registered_projection_consumes_only_declared_event_types_and_maps_each_to_a_key()
    {
        Assert.Empty(ProjectionRegistry.All.SelectMany(Problems));
    }

    [Fact]
    public void Grain_types_are_registered_once()
    {
        Assert.Empty(ProjectionRegistry.All.GroupBy(projection => projection.GrainType).Where(group => group.Count() > 1).Select(group => group.Key));
        Assert.Contains(ProjectionRegistry.All, projection => projection.Inputs.Count > 0);
    }

    [Fact]
    public void A_projection_that_consumes_an_event_by_a_name_no_event_type_declares_is_caught()
    {
        var renamed = ProjectionDefinition.Of("wrong-name")
            .Consumes(EventCategories.Orders, [OrderPaid.StoredName, nameof(OrderCancelled) + "V2"], (generation, e) => $"{generation}/{e.OrderId}");

        var problem = Assert.Single(Problems(renamed));
        Assert.Contains("OrderCancelledV2", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_projection_whose_key_mapping_throws_for_one_of_its_events_is_caught()
    {
        var throwing = ProjectionDefinition.Of("wrong-key")
            .ConsumesAll(EventCategories.Orders, (generation, e) => e.Type == OrderShipped.StoredName ? throw new InvalidOperationException("no key") : $"{generation}/{e.OrderId}");
        var unscoped = ProjectionDefinition.Of("unscoped-key")
            .Consumes(EventCategories.Customers, [OrderFlow.Customers.Events.CustomerRegistered.StoredName], (_, e) => e.CustomerId);

        Assert.Contains(Problems(throwing), problem => problem.Contains(OrderShipped.StoredName, StringComparison.Ordinal) && problem.Contains("no key", StringComparison.Ordinal));
        Assert.Contains(Problems(unscoped), problem => problem.Contains("does not start with its generation", StringComparison.Ordinal));
    }

    /// <summary>What is wrong with <paramref name="projection"/>: names its categories do not declare, and events whose key cannot be made.</summary>
    private static IEnumerable<string> Problems(ProjectionDefinition projection)
    {
        foreach (var input in projection.Inputs)
        {
            foreach (var name in input.Undeclared)
            {
                yield return $"{projection.GrainType} consumes '{name}', which no {input.Category} event type declares as its stored name.";
            }

            foreach (var name in input.Events.Except(input.Undeclared))
            {
                foreach (var generation in new[] { 1, 12 })
                {
                    string? key = null;
                    string? error = null;
                    try
                    {
                        key = KeyOf(input, name, generation);
                    }
                    catch (Exception exception)
                    {
                        error = exception.Message;
                    }

                    if (error is not null)
                    {
                        yield return $"{projection.GrainType} cannot map a '{name}' event to its key: {error}";
                    }
                    else if (key is null || !(key == $"{generation}" || key.StartsWith($"{generation}/", StringComparison.Ordinal)))
                    {
                        yield return $"{projection.GrainType}'s key '{key}' of a '{name}' event does not start with its generation {generation}.";
                    }
                }
            }
        }
    }

    /// <summary>The key of a typical envelope of <paramref name="storedName"/> in <paramref name="generation"/>; a category without a sample here fails the test.</summary>
    private static string KeyOf(ProjectionInput input, string storedName, int generation) => input switch
    {
        ProjectionInput<OrderEventEnvelope> orders => orders.KeyOf(generation, new OrderEventEnvelope(
            "order-1", 2, Guid.NewGuid(), storedName, At, "customer-1", "EUR", 25m, 25m, [new OrderLine("SKU-1", 1, 25m)],
            OrderStatus.Placed, OrderStatus.Paid, 60, null, null)),
        ProjectionInput<CustomerEventEnvelope> customers => customers.KeyOf(generation, new CustomerEventEnvelope(
            "customer-1", 1, Guid.NewGuid(), storedName, At, "DE", At)),
        _ => throw new InvalidOperationException($"No sample envelope of category '{input.Category}': add one to {nameof(ProjectionRegistryTests)}."),
    };
}
