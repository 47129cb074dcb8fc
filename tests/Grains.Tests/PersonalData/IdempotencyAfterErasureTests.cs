using Azure.Data.Tables;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.Customers;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.PersonalData;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// README "Personal data": the idempotency record of a request carrying personal data keeps an
/// HMAC under its subject's key (shredded by the erasure) and a hash of the request without its
/// personal members. Before the erasure a retry must match the whole request; after it, a retry
/// matching the rest is answered from the record (personal data erased), one that differs in the
/// rest is refused as any reused key is. An erasure retried by another administrator is the same request.
/// </summary>
public sealed class IdempotencyAfterErasureTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    private static CommandMetadata Key(string key) => new(IdempotencyKey: key);

    [Fact]
    public async Task A_registration_is_replayed_by_its_whole_request_before_the_erasure_and_by_the_rest_after_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = "hash-" + Guid.NewGuid().ToString("N")[..12];
        var customer = cluster.Client.GetGrain<ICustomerGrain>(id);
        var register = new RegisterCustomer(id, "Hanna Hash", "hanna." + id + "@example.com", "DE");
        Assert.Null((await customer.Execute(register, Key("register"))).Error);

        Assert.True((await customer.Execute(register, Key("register"))).Replayed);
        Assert.Equal(CommandErrorCode.Unprocessable, (await customer.Execute(register with { Name = "Other Name" }, Key("register"))).Error?.Code);
        var hashes = await RequestHashesAsync(new EventStoreOptions { TableName = cluster.TableName }.TableNameOf(CustomerEventSource.CategoryName), id, ct);
        Assert.StartsWith("hmac1.", Assert.Single(hashes), StringComparison.Ordinal);

        Assert.Null((await customer.Execute(new ErasePersonalData("admin-a"), Key("erase"))).Error);
        var erasureRetried = await customer.Execute(new ErasePersonalData("admin-b"), Key("erase"));
        Assert.Null(erasureRetried.Error);
        Assert.True(erasureRetried.Replayed);

        var replayed = await customer.Execute(register, Key("register"));
        Assert.True(replayed.Replayed);
        Assert.True(replayed.Customer!.Erased);
        Assert.Null(replayed.Customer.Name);
        Assert.Equal(CommandErrorCode.Unprocessable, (await customer.Execute(register with { Country = "FR" }, Key("register"))).Error?.Code);
    }

    /// <summary>
    /// An erasure deletes its subject's key while it is decided, so its key's record is read first:
    /// an erasure reusing a key another request used is refused, with the data still readable. When
    /// the record was read only after deciding, the data was shredded and the answer was 422.
    /// </summary>
    [Fact]
    public async Task An_erasure_reusing_the_key_of_another_request_is_refused_and_erases_nothing()
    {
        var id = "hash-" + Guid.NewGuid().ToString("N")[..12];
        var customer = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await customer.Execute(new RegisterCustomer(id, "Ida Idem", "ida." + id + "@example.com", "DE"), Key("register"))).Error);

        var erasure = await customer.Execute(new ErasePersonalData("admin-a"), Key("register"));

        Assert.Equal(CommandErrorCode.Unprocessable, erasure.Error?.Code);
        Assert.False(await cluster.Client.GetGrain<ISubjectKeyGrain>(id).IsErased());
        await cluster.DeactivateAsync(customer);
        var read = await customer.Get();
        Assert.Equal(("Ida Idem", false), (read?.Name, read?.Erased));
    }

    [Fact]
    public async Task A_placement_with_an_address_is_replayed_after_its_customer_is_erased()
    {
        var ct = TestContext.Current.CancellationToken;
        var (orderId, customerId) = (NewOrderId(), "hash-" + Guid.NewGuid().ToString("N")[..12]);
        var place = new PlaceOrder(orderId, customerId, "EUR", Items, null, PersonalDataTests.Address(Guid.NewGuid().ToString("N")[..10]));
        await cluster.Grain(orderId).Succeeds(place, Key("place"));
        Assert.StartsWith("hmac1.", Assert.Single(await RequestHashesAsync(cluster.TableName, orderId, ct)), StringComparison.Ordinal);

        await cluster.Client.GetGrain<ISubjectKeyGrain>(customerId).Erase();
        await cluster.DeactivateAsync(orderId);

        var replayed = await cluster.Grain(orderId).Execute(place, Key("place"));
        Assert.True(replayed.Replayed);
        Assert.Null(replayed.Order!.ShippingAddress);
        Assert.True(replayed.Order.PersonalDataErased);
        var otherItems = place with { Items = [new OrderLineRequest("sku-other", 1, 1m)] };
        Assert.Equal(CommandErrorCode.Unprocessable, (await cluster.Grain(orderId).Execute(otherItems, Key("place"))).Error?.Code);
    }

    /// <summary>
    /// A keyed hash stored by a build that named requests by their class name (before wire aliases)
    /// still matches its retry: by its MAC while the subject's key exists, by the hash of the rest
    /// after the erasure; another request does not match either way. The earlier build's hash is
    /// made here from a type of the same class name and shape that declares no alias.
    /// </summary>
    [Fact]
    public async Task A_keyed_hash_stored_under_the_class_name_by_an_earlier_build_still_matches_its_retry()
    {
        var subject = "legacy-hash-" + Guid.NewGuid().ToString("N")[..12];
        var personalData = new PersonalDataProtector(cluster.Client);
        var retry = new AliasedRequest.KeyedHashRequest("Lena Legacy", "DE");
        var storedByEarlierBuild = await RequestHash.OfAsync(new UnaliasedRequest.KeyedHashRequest("Lena Legacy", "DE"), subject, personalData);
        Assert.StartsWith("hmac1.", storedByEarlierBuild, StringComparison.Ordinal);
        Assert.NotEqual(await RequestHash.OfAsync(retry, subject, personalData), storedByEarlierBuild);

        Assert.True(await RequestHash.MatchesAsync(storedByEarlierBuild, retry, retry, personalData));
        var otherName = retry with { Name = "Lena Other" };
        Assert.False(await RequestHash.MatchesAsync(storedByEarlierBuild, otherName, otherName, personalData));

        await cluster.Client.GetGrain<ISubjectKeyGrain>(subject).Erase();

        Assert.True(await RequestHash.MatchesAsync(storedByEarlierBuild, retry, retry, personalData));
        var otherCountry = retry with { Country = "FR" };
        Assert.False(await RequestHash.MatchesAsync(storedByEarlierBuild, otherCountry, otherCountry, personalData));
    }

    private async Task<List<string>> RequestHashesAsync(string table, string streamId, CancellationToken ct)
    {
        var hashes = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(streamId)}");
        await foreach (var row in cluster.Service.GetTableClient(table).QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            if (row.GetString("RequestHash") is { } hash)
            {
                hashes.Add(hash);
            }
        }

        return hashes;
    }
}

/// <summary>A request as this build hashes it: under its wire alias.</summary>
internal static class AliasedRequest
{
    [Alias("orderflow.tests.keyed-hash-request")]
    internal sealed record KeyedHashRequest([property: PersonalData] string Name, string Country);
}

/// <summary>The same request as builds before wire aliases hashed it: under its class name.</summary>
internal static class UnaliasedRequest
{
    internal sealed record KeyedHashRequest([property: PersonalData] string Name, string Country);
}
