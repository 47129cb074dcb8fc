using System.Net;
using System.Security.Cryptography;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrderFlow.Api.Tests.Infrastructure;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.Testing;

namespace OrderFlow.Api.Tests;

/// <summary>
/// README "Personal data": a customer's key wrapped under a key-encryption key version that the
/// deployment no longer has is an incident, answered with the 500 problem
/// <c>personal-data-key-unreadable</c> and a critical log line, never shown as erased.
/// </summary>
public sealed class KeyEncryptionKeyTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_key_wrapped_with_a_version_the_deployment_lacks_answers_500_personal_data_key_unreadable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(azurite.ConnectionString, configure: builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PersonalData:KeyEncryptionKey:Keys:v1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["PersonalData:KeyCacheDuration"] = "00:00:00", // the key's grain reads the row again at once
        }));
        var id = TestCustomers.NewId();
        await host.RegisterCustomerAsync(id);
        Assert.Equal(TestCustomers.Name, (await host.GetCustomerAsync(id)).Str("name"));

        // The row as if wrapped by a version since deleted from the vault.
        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(host.TableName));
        var row = Assert.Single(await keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(id)}"), cancellationToken: ct).ToListAsync(ct));
        Assert.Equal("v1", row.GetString("KeyEncryptionKeyVersion"));
        Assert.Null(row.GetBinary("Key"));
        row["KeyEncryptionKeyVersion"] = "v0-deleted";
        await keys.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);

        // Reads that open the stored events (a live activation's current view was revealed before, and is kept in memory).
        var asOf = Uri.EscapeDataString(TestOrders.Time(DateTimeOffset.UtcNow));
        foreach (var path in new[] { $"/api/customers/{id}/events", $"/api/customers/{id}?asOf={asOf}" })
        {
            using var response = await host.Reader.GetAsync(path);
            var problem = await response.AssertProblemAsync(HttpStatusCode.InternalServerError, "/problems/personal-data-key-unreadable");
            // Review finding: the detail named the key-encryption key's version (and, from Key Vault, the vault and its secret) to any reader.
            Assert.DoesNotContain("v0-deleted", problem.Str("detail"), StringComparison.Ordinal);
            Assert.Contains("key-encryption key", problem.Str("detail"), StringComparison.Ordinal);
        }

        Assert.Contains(host.Log.GetSnapshot(), record => record.Level == LogLevel.Critical && record.Message.Contains(id, StringComparison.Ordinal)
            && record.Message.Contains("v0-deleted", StringComparison.Ordinal));
    }
}
