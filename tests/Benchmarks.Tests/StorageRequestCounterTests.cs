using Azure;
using Azure.Core;
using Azure.Data.Tables;
using OrderFlow.Testing;

namespace OrderFlow.Benchmarks.Tests;

/// <summary>
/// The benchmark's count of storage requests (<see cref="StorageRequestCounter"/>), on a real
/// client against Azurite: each request under its target, a transaction under the table of its
/// first operation, with the bytes of its body.
/// </summary>
public sealed class StorageRequestCounterTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Each_request_is_counted_under_its_table_and_method_and_a_transaction_under_its_first_operations_table()
    {
        var ct = TestContext.Current.CancellationToken;
        var counter = new StorageRequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var name = TableNames.Unique("counted");
        var table = new TableServiceClient(azurite.ConnectionString, options).GetTableClient(name);

        await table.CreateIfNotExistsAsync(ct);
        await table.UpsertEntityAsync(new TableEntity("p", "a") { ["Data"] = "x" }, TableUpdateMode.Replace, ct);
        await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "b") { ["Data"] = new string('y', 3_000) }),
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity("p", "a"), ETag.All),
            ],
            ct);
        await table.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity("p", "b"), ETag.All)], ct);
        await foreach (var _ in table.QueryAsync<TableEntity>(e => e.PartitionKey == "p", cancellationToken: ct))
        {
        }

        Assert.Equal(new Dictionary<string, long>
        {
            ["Tables POST"] = 1,
            [name + " PUT"] = 1,
            ["$batch " + name + " POST"] = 2,
            [name + " GET"] = 1,
        }, counter.ByTarget());
        Assert.Equal(5, counter.Total);

        var bytes = counter.BytesByTarget();
        Assert.InRange(bytes["$batch " + name + " POST"], 3_000, 20_000); // both transactions' bodies, the 3,000-character property included
        Assert.Equal(0, bytes[name + " GET"]);
    }

    /// <summary>A try that failed before its body was written (nothing listens) counts as a request of its table, with no bytes sent.</summary>
    [Fact]
    public async Task A_transaction_whose_try_failed_before_sending_is_counted_under_its_table_with_no_bytes()
    {
        var ct = TestContext.Current.CancellationToken;
        var counter = new StorageRequestCounter();
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 0;
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var nowhere = $"DefaultEndpointsProtocol=http;AccountName={Azurite.AccountName};AccountKey={Azurite.AccountKey};TableEndpoint=http://127.0.0.1:{Azurite.FreePort()}/{Azurite.AccountName};";
        var table = new TableServiceClient(nowhere, options).GetTableClient("unreached");

        await Assert.ThrowsAnyAsync<Exception>(() => table.SubmitTransactionAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "a"))], ct));

        Assert.Equal(new Dictionary<string, long> { ["$batch unreached POST"] = 1 }, counter.ByTarget());
        Assert.Equal(0, counter.BytesByTarget()["$batch unreached POST"]);
    }

    [Theory]
    [InlineData("/devstoreaccount1/orders(PartitionKey='a',RowKey='b')", "GET", "orders GET")]
    [InlineData("/orders(PartitionKey='a',RowKey='b')", "PATCH", "orders PATCH")] // Azure's paths have no account
    [InlineData("/devstoreaccount1/Tables", "POST", "Tables POST")]
    [InlineData("/devstoreaccount1/events-queue/messages", "POST", "events-queue POST")]
    [InlineData("/devstoreaccount1", "GET", "devstoreaccount1 GET")]
    [InlineData("/devstoreaccount1/", "GET", "devstoreaccount1 GET")] // the account's own resources (queues listed, service properties)
    [InlineData("/", "GET", " GET")]
    public void A_request_is_named_by_the_resource_it_addresses(string path, string method, string expected)
    {
        Span<char> name = stackalloc char[128];
        var length = StorageRequestCounter.Target(path, RequestMethod.Parse(method), name);
        Assert.Equal(expected, name[..length].ToString());
    }

    [Theory]
    [InlineData("--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_2\r\n\r\n--changeset_2\r\nContent-Type: application/http\r\n\r\nPOST http://127.0.0.1:10002/devstoreaccount1/events1 HTTP/1.1\r\n", "$batch events1 POST")]
    [InlineData("--changeset_2\r\n\r\nPATCH https://acct.table.core.windows.net/stats(PartitionKey='p',RowKey='r') HTTP/1.1\r\n", "$batch stats POST")]
    [InlineData("--changeset_2\r\n\r\nDELETE http://h/devstoreaccount1/changes(PartitionKey='p',RowKey='r')?timeout=30 HTTP/1.1\r\n", "$batch changes POST")]
    [InlineData("--changeset_2\r\nContent-Type: application/http\r\n", "$batch ? POST")] // cut before its first operation
    [InlineData("--changeset_2\r\n\r\nPOST http://h/devstoreaccount1/even", "$batch ? POST")] // cut within the table's name
    public void A_transaction_is_named_by_its_first_operations_table(string body, string expected)
    {
        Span<char> name = stackalloc char[128];
        var length = StorageRequestCounter.TransactionTarget(System.Text.Encoding.ASCII.GetBytes(body), RequestMethod.Post, name);
        Assert.Equal(expected, name[..length].ToString());
    }
}
