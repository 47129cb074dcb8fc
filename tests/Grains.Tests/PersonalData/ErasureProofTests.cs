using System.Reflection;
using System.Text.Json;
using Orleans;
using Orleans.Providers.Streams.Common;
using Orleans.TestingHost;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.PersonalData;
using OrderFlow.Projections;
using OrderFlow.Silo;
using OrderFlow.Statistics;
using OrderFlow.Streams;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// The proof (README "Personal data"): on a storage account of its own (tables and stream
/// queues), customers with names and emails, and orders with shipping addresses (one of a customer
/// who never registers, erased all the same), go through their whole flow (idempotency records,
/// refund rows, snapshots, change index, statistics, queued stream messages); a scan of every table
/// and every queue, listed by the service clients, finds no spelling of a name, an email or any address field before
/// the erasure (sealed from the start) nor after it, while it does find plain data stored beside
/// them. Statistics are the same before and after the erasure, live and rebuilt.
/// </summary>
public sealed class ErasureProofTests
{
    private static readonly DateTimeOffset At = new(2026, 10, 5, 10, 0, 0, TimeSpan.Zero);

    /// <summary>How long the test waits for the statistics and the rebuild, which follow the commands through a stream queue.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task After_erasure_no_table_or_queue_holds_any_spelling_of_the_name_email_or_address_and_statistics_are_unchanged()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tables = await Azurite.StartNewAsync(cancellationToken: ct);
        await using var queues = await Azurite.StartQueuesAsync(ct);
        await using var cluster = await StartClusterAsync(tables, queues, ct);
        var run = Guid.NewGuid().ToString("N")[..8];
        var (erased, kept, unregistered) = ("erased-" + run, "kept-" + run, "unregistered-" + run);
        var sku = "CANARY-" + run; // stored in plain beside the addresses: the scan must find it
        var erasedAddresses = new[]
        {
            new ShippingAddressRequest("Ingrid Ørsted-Quist " + run, "Rue de l'Oubli 17 " + run, "Bâtiment Zèta " + run, "Vergessenheim" + run, "VZ-" + run[..5], "FR"),
            new ShippingAddressRequest("Ingrid Ørsted-Quist " + run, "Löschweg 4 " + run, null, "Nirgendwo" + run, "NW-" + run[..5], "DE"),
        };
        var keptAddress = new ShippingAddressRequest("Kept Keeper " + run, "Stay Lane 1 " + run, null, "Keepton" + run, "KT-" + run[..5], "GB");
        var unregisteredAddress = new ShippingAddressRequest("Una Named " + run, "Orders Only Road 3 " + run, null, "Nowhere Listed" + run, "UN-" + run[..5], "NL");
        var (erasedName, erasedEmail) = ("Ingrid Ørsted-Quist " + run, "ingrid.oersted+" + run + "@example.com");
        var (keptName, keptEmail) = ("Kept Keeper " + run, "kept." + run + "@example.com");

        var orders = cluster.Client;
        var customers = cluster.Client;
        var registration = new RegisterCustomer(erased, erasedName, erasedEmail, "FR", At.AddDays(-30));
        await CustomerSucceeds(customers, erased, registration, "idem-c1-" + run);
        await CustomerSucceeds(customers, erased, new ChangeCustomerProfile(erasedName + " Jr", null, null, At.AddDays(-20)));
        await CustomerSucceeds(customers, kept, new RegisterCustomer(kept, keptName, keptEmail, "GB", At.AddDays(-30)));
        var items = new[] { new OrderLineRequest(sku, 2, 12.5m) };
        var placement = new PlaceOrder("o1-" + run, erased, "EUR", items, At, erasedAddresses[0]);
        await Succeeds(orders, "o1-" + run, placement, "idem-1-" + run);
        var payment = new PayOrder("pay-1-" + run, 25m, "card", At.AddMinutes(5));
        await Succeeds(orders, "o1-" + run, payment, "idem-2-" + run);
        await Succeeds(orders, "o1-" + run, new ShipOrder("dhl", "track-" + run, At.AddHours(1)));
        await Succeeds(orders, "o1-" + run, new DeliverOrder(At.AddDays(1)));
        await Succeeds(orders, "o1-" + run, new RefundOrder("refund-1-" + run, 5m, "scratched", At.AddDays(2)));
        await Succeeds(orders, "o2-" + run, new PlaceOrder("o2-" + run, kept, "EUR", items, At.AddMinutes(1), keptAddress));
        await Succeeds(orders, "o2-" + run, new PayOrder("pay-2-" + run, 25m, "card", At.AddMinutes(9)));
        await Succeeds(orders, "o4-" + run, new PlaceOrder("o4-" + run, unregistered, "EUR", items, At.AddMinutes(2), unregisteredAddress)); // a customer who never registers
        var statistics = orders.GetGrain<IStatisticsGrain>(0);
        await Eventually.UntilAsync(async () => (await statistics.Summary(null, null)).Orders["placed"] == 3, "the three placements to be counted", ct, Patience);

        // A placement held in the stream queue (agents stopped) while the account is scanned.
        var streams = orders.GetGrain<IManagementGrain>(0);
        await streams.SendControlCommandToProvider<PersistentStreamProvider>(OrderEventStreams.ProviderName, (int)PersistentStreamProviderCommand.StopAgents, null, ct);
        var queuedId = "o3-" + run;
        var queuedPlacement = new PlaceOrder(queuedId, erased, "EUR", items, At.AddHours(3), erasedAddresses[1]);
        await Succeeds(orders, queuedId, queuedPlacement, "idem-3-" + run);

        var beforeErasure = await StorageScan.ReadAsync(tables.ConnectionString, queues.ConnectionString, ct);
        Assert.True(beforeErasure.QueueMessageCount >= 1, "The queued placement should be in a stream queue.");
        Assert.Contains(beforeErasure.FindAnywhere(queuedId), where => where.StartsWith("queue ", StringComparison.Ordinal));
        Assert.NotEmpty(beforeErasure.FindAnywhere(sku));
        foreach (var secret in Secrets(erasedAddresses).Concat(Secrets([keptAddress, unregisteredAddress])).Concat([erasedName, erasedEmail, keptName, keptEmail]))
        {
            Assert.Empty(beforeErasure.FindAnywhere(secret)); // sealed from the start: never stored in plain
        }

        await streams.SendControlCommandToProvider<PersistentStreamProvider>(OrderEventStreams.ProviderName, (int)PersistentStreamProviderCommand.StartAgents, null, ct);
        await Eventually.UntilAsync(async () => (await statistics.Summary(null, null)).Orders["placed"] == 4, "the fourth placement to be counted", ct, Patience);
        // The payments may be counted in batches after the placements': wait for both payments' lines.
        await Eventually.UntilAsync(async () => (await statistics.TopProducts(10, byQuantity: true)).Products.Sum(product => product.Quantity) == 4, "the products' quantities to add up to 4", ct, Patience);
        var statisticsBefore = await StatisticsAsync(statistics, erased, kept, unregistered);
        Assert.Equal(Stored(erasedAddresses[1]), (await orders.GetGrain<IOrderGrain>(queuedId).Get())!.ShippingAddress);

        await CustomerSucceeds(customers, erased, new ErasePersonalData("admin"));
        await CustomerSucceeds(customers, unregistered, new ErasePersonalData("admin")); // starts their customer log
        var customer = (await customers.GetGrain<ICustomerGrain>(erased).Get())!;
        Assert.True(customer.Erased);
        Assert.Null(customer.Name);
        Assert.True((await customers.GetGrain<ICustomerGrain>(erased).GetAsOf(At.AddDays(-25)))!.Erased); // a time before the erasure too
        Assert.Equal(keptEmail, (await customers.GetGrain<ICustomerGrain>(kept).Get())!.Email);

        foreach (var orderId in new[] { "o1-" + run, queuedId, "o4-" + run })
        {
            var order = (await orders.GetGrain<IOrderGrain>(orderId).Get())!;
            Assert.Null(order.ShippingAddress);
            Assert.True(order.PersonalDataErased);
        }

        Assert.Equal(Stored(keptAddress), (await orders.GetGrain<IOrderGrain>("o2-" + run).Get())!.ShippingAddress);

        var afterErasure = await StorageScan.ReadAsync(tables.ConnectionString, queues.ConnectionString, ct);
        Assert.True(afterErasure.TableCount >= 4, $"Expected the events, changes, keys and statistics tables at least; found {afterErasure.TableCount}.");
        Assert.NotEmpty(afterErasure.FindAnywhere(sku));
        foreach (var secret in Secrets(erasedAddresses).Concat(Secrets([unregisteredAddress])).Concat([erasedName, erasedEmail]))
        {
            Assert.Empty(afterErasure.FindAnywhere(secret));
        }

        // Idempotency records keep no unkeyed hash of a request carrying personal data (one could
        // confirm a guessed name offline, and it would outlive the erasure); a request without any keeps its own.
        foreach (var request in new object[] { registration, placement, queuedPlacement })
        {
            Assert.Empty(afterErasure.FindAnywhere(UnkeyedRequestHash(request, request.GetType().Name)));
            Assert.Empty(afterErasure.FindAnywhere(UnkeyedRequestHash(request, WireAlias(request))));
        }

        Assert.NotEmpty(afterErasure.FindAnywhere(UnkeyedRequestHash(payment, WireAlias(payment))));

        // Statistics, risk and customers need no personal data: the same live, and rebuilt from the log after the erasure.
        Assert.Equal(statisticsBefore, await StatisticsAsync(statistics, erased, kept, unregistered));
        var (rebuild, _) = await orders.GetGrain<IProjectionsGrain>(0).StartRebuild();
        await Eventually.UntilAsync(async () => (await orders.GetGrain<IProjectionsGrain>(0).GetRebuild(rebuild.Id))?.State == RebuildState.Completed, "the rebuild to complete", ct, Patience);
        Assert.Equal(statisticsBefore, await StatisticsAsync(statistics, erased, kept, unregistered));
    }

    [Fact]
    public void The_scan_finds_every_spelling_it_claims_to_look_for()
    {
        const string Secret = "Ørsted-Quist <x>";
        foreach (var spelling in StorageScan.Spellings(Secret))
        {
            Assert.NotEmpty(StorageScan.Of("prefix " + spelling + " suffix").FindAnywhere(Secret));
            Assert.NotEmpty(StorageScan.Of(System.Text.Encoding.Unicode.GetBytes(spelling)).FindAnywhere(Secret));
        }

        Assert.NotEmpty(StorageScan.Of(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("{\"recipient\":\"" + Secret + "\"}"))).FindAnywhere(Secret));
        Assert.Empty(StorageScan.Of("Orsted Quist").FindAnywhere(Secret));
    }

    /// <summary>An unkeyed request hash: the SHA-256 of the request's <paramref name="name"/> (its class name before the wire alias) and JSON.</summary>
    private static string UnkeyedRequestHash(object request, string name) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(name + "\n" + JsonSerializer.Serialize(request, request.GetType(), OrderFlow.Grains.EventSourcing.StoredJson.Options))));

    private static string WireAlias(object request) =>
        request.GetType().GetCustomAttribute<AliasAttribute>()!.Alias;

    /// <summary>Every address field long enough to be recognised (the country code, two letters, is not: it is sealed with the rest).</summary>
    private static IEnumerable<string> Secrets(IEnumerable<ShippingAddressRequest> addresses) =>
        addresses.SelectMany(address => new[] { address.Recipient, address.Line1, address.Line2, address.City, address.PostalCode }).OfType<string>();

    private static ShippingAddress Stored(ShippingAddressRequest request) => PersonalDataTests.Stored(request);

    private static async Task<string> StatisticsAsync(IStatisticsGrain statistics, params string[] customers)
    {
        var reports = new List<object?>
        {
            await statistics.Summary(null, null),
            await statistics.TimeSeries(At.AddDays(-1), At.AddDays(3), StatsInterval.Hour),
            await statistics.TopProducts(10, byQuantity: true),
            await statistics.Alerts(null, 100),
        };
        foreach (var customer in customers)
        {
            reports.Add(await statistics.Customer(customer));
        }

        return JsonSerializer.Serialize(reports);
    }

    private static async Task Succeeds(IClusterClient client, string orderId, OrderCommand command, string? idempotencyKey = null)
    {
        var result = await client.GetGrain<IOrderGrain>(orderId).Execute(command, new CommandMetadata { IdempotencyKey = idempotencyKey });
        Assert.True(result.Error is null, $"{command.GetType().Name} on {orderId} was refused: {result.Error?.Detail}");
    }

    private static async Task CustomerSucceeds(IClusterClient client, string customerId, CustomerCommand command, string? idempotencyKey = null)
    {
        var result = await client.GetGrain<ICustomerGrain>(customerId).Execute(command, new CommandMetadata { IdempotencyKey = idempotencyKey });
        Assert.True(result.Error is null, $"{command.GetType().Name} on {customerId} was refused: {result.Error?.Detail}");
    }

    private static Task<InProcessTestCluster> StartClusterAsync(Azurite tables, Azurite queues, CancellationToken ct) =>
        TestClusters.StartAsync(new Dictionary<string, string?>
        {
            ["Dashboard:Enabled"] = "false",
            ["ConnectionStrings:" + OrderFlowSiloExtensions.TablesConnectionName] = tables.ConnectionString,
            ["ConnectionStrings:Queues"] = queues.ConnectionString,
            [OrderFlowSiloExtensions.StreamsProviderKey] = "AzureQueue",
            ["EventStore:TableName"] = "proofevents",
            ["EventStore:SnapshotInterval"] = "2",
            ["Statistics:TableName"] = "proofstatistics",
        }, ct);
}
