using Azure.Data.Tables;
using OrderFlow.Customers;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.PersonalData;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// A registered customer whose key row was lost (deleted by hand, a partial restore) or cannot be
/// unwrapped (its key-encryption-key version is gone) can still be erased: an erasure needs neither
/// the name and email nor their key. Their load failed, and with it the erasure (HTTP 500).
/// </summary>
public sealed class LostKeyErasureTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private static readonly DateTimeOffset At = new(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);

    private readonly OrderCluster cluster = fixture.Cluster;

    [Theory]
    [InlineData("lost")]
    [InlineData("unwrappable")]
    public async Task A_customer_whose_key_cannot_be_had_is_erased(string damage)
    {
        var ct = TestContext.Current.CancellationToken;
        var id = "customer-" + Guid.NewGuid().ToString("N")[..12];
        var grain = cluster.Client.GetGrain<ICustomerGrain>(id);
        Assert.Null((await grain.Execute(new RegisterCustomer(id, "Ada", "ada@example.com", "GB", At), CommandMetadata.None)).Error);

        var keys = cluster.Service.GetTableClient(cluster.TableName + "keys");
        await foreach (var row in keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(id)}"), cancellationToken: ct))
        {
            if (damage == "lost")
            {
                await keys.DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: ct);
            }
            else
            {
                // Wrapped under a key-encryption-key version this deployment does not have.
                await keys.UpsertEntityAsync(new TableEntity(row.PartitionKey, row.RowKey) { ["WrappedKey"] = new byte[60], ["KeyEncryptionKeyVersion"] = "retired" }, TableUpdateMode.Replace, ct);
            }
        }

        await cluster.DeactivateAsync(grain);
        await cluster.DeactivateAsync(cluster.Client.GetGrain<ISubjectKeyGrain>(id));

        // Before the erasure, the data cannot be shown: a read still fails loudly.
        await Assert.ThrowsAnyAsync<Exception>(() => grain.Get());

        var erased = await grain.Execute(new ErasePersonalData("admin"), CommandMetadata.None);
        Assert.Null(erased.Error);
        Assert.Equal((true, null, null, 2), (erased.Customer!.Erased, erased.Customer.Name, erased.Customer.Email, erased.Customer.Version));

        var read = await grain.Get();
        Assert.Equal((true, null, null, 2), (read!.Erased, read.Name, read.Email, read.Version));
    }
}
