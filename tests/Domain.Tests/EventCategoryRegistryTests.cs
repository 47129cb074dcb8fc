using System.Reflection;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Projections;
using OrderFlow.Grains.Projections.Feed;
using OrderFlow.Projections;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// README "A new aggregate": every event source has its category in <see cref="EventCategories.All"/>,
/// which the rebuild scans and the read-back parks by, each parked under kinds of its own. The
/// check also runs over a registry that misses a category, so that it is seen to fail.
/// </summary>
public sealed class EventCategoryRegistryTests
{
    /// <summary>Every concrete event source of the silo's grains (the aggregates).</summary>
    private static readonly Type[] EventSources =
        [.. typeof(EventSource<,,>).Assembly.GetTypes().Where(type => !type.IsAbstract && IsEventSource(type))];

    [Fact]
    public void Every_event_source_has_one_registered_category_with_parked_kinds_of_its_own()
    {
        Assert.Contains(typeof(OrderEventSource), EventSources); // the reflection finds the aggregates
        Assert.Contains(typeof(CustomerEventSource), EventSources);
        Assert.Empty(Problems(EventCategories.All));
    }

    [Fact]
    public void A_registry_that_misses_an_event_source_is_caught()
    {
        var problem = Assert.Single(Problems([EventCategories.Orders]));
        Assert.Contains("CustomerEventSource", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_registry_in_which_two_categories_park_alike_is_caught()
    {
        Assert.Contains(Problems([EventCategories.Orders, EventCategories.Customers, EventCategories.Orders]), problem => problem.Contains("parked as", StringComparison.Ordinal));
    }

    /// <summary>The rebuild scans <see cref="EventCategories.All"/>: a category declared beside the others but not listed there would never be rebuilt.</summary>
    [Fact]
    public void Every_category_declared_in_the_registry_is_listed_in_All()
    {
        var declared = typeof(EventCategories).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => typeof(EventCategory).IsAssignableFrom(field.FieldType))
            .Select(field => (EventCategory)field.GetValue(null)!)
            .ToList();

        Assert.Equal(EventSources.Length, declared.Count);
        Assert.All(declared, category => Assert.Contains(category, EventCategories.All));
    }

    [Fact]
    public void The_read_back_parks_each_category_as_it_declares()
    {
        Assert.All(EventCategories.All, category =>
        {
            var wholeStream = StreamReadBack.UnreadableRow(category.Name, "s-1", 0, "damaged", TimeSpan.Zero);
            var oneEvent = StreamReadBack.UnreadableRow(category.Name, "s-1", 3, "damaged", TimeSpan.Zero);

            Assert.Equal(category.ParkedStreamKind, StreamReadBack.KindOf(category.Name));
            Assert.Equal((category.ParkedStreamKind, "s-1", $"{category.Name} 's-1'"), (wholeStream.Kind, wholeStream.Key, wholeStream.Subject));
            Assert.Equal(
                category.ParkedEventKind is { } eventKind ? (eventKind, "s-1#3", $"event 3 of {category.Name} 's-1'") : (category.ParkedStreamKind, "s-1", $"{category.Name} 's-1'"),
                (oneEvent.Kind, oneEvent.Key, oneEvent.Subject));
        });

        // What the parked list has always said (ParkedRecord's wire format and the API's records).
        Assert.Equal((ParkedKind.Order, ParkedKind.Event), (EventCategories.Orders.ParkedStreamKind, EventCategories.Orders.ParkedEventKind));
        Assert.Equal((ParkedKind.Customer, (ParkedKind?)null), (EventCategories.Customers.ParkedStreamKind, EventCategories.Customers.ParkedEventKind));
    }

    [Fact]
    public void A_category_no_one_registered_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StreamReadBack.KindOf("invoice"));
    }

    private static IEnumerable<string> Problems(IReadOnlyList<EventCategory> registered)
    {
        var sourceTypes = registered.Select(category => category.Accept(new SourceTypeOf())).ToList();
        foreach (var source in EventSources.Where(source => !sourceTypes.Contains(source)))
        {
            yield return $"Event source {source.Name} has no category in the registry.";
        }

        foreach (var name in registered.GroupBy(category => category.Name).Where(group => group.Count() > 1))
        {
            yield return $"Category '{name.Key}' is registered {name.Count()} times.";
        }

        var kinds = registered.SelectMany(category => new[] { category.ParkedStreamKind, category.ParkedEventKind })
            .OfType<ParkedKind>()
            .Append(ParkedKind.Projection);
        foreach (var kind in kinds.GroupBy(kind => kind).Where(group => group.Count() > 1))
        {
            yield return $"{kind.Count()} categories (or projections) are parked as {kind.Key}: their parked records would be taken for each other's.";
        }
    }

    private static bool IsEventSource(Type? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EventSource<,,>))
            {
                return true;
            }
        }

        return false;
    }

    private sealed class SourceTypeOf : IEventCategoryVisitor<Type>
    {
        public Type Visit<TState, TEvent, TEnvelope>(EventSource<TState, TEvent, TEnvelope> source, EventCategory<TEnvelope> category)
            where TState : class, IEventSourcedState<TState, TEvent>, new()
            where TEvent : class =>
            source.GetType();
    }
}
