namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>The implicit subscriber of one order-event stream (one shard of orders).</summary>
public interface IOrderEventsConsumerGrain : IGrainWithStringKey;
