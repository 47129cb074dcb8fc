namespace OrderFlow.Grains.Projections.Consumers;

/// <summary>The implicit subscriber of one customer-event stream (one shard of customers).</summary>
public interface ICustomerEventsConsumerGrain : IGrainWithStringKey;
