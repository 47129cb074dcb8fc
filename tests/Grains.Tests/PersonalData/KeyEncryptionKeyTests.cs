using System.Security.Cryptography;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.PersonalData;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Grains.Tests.PersonalData;

/// <summary>
/// README "Personal data", envelope encryption: with a key-encryption key configured, the key
/// table holds each subject's key wrapped under it (<see cref="SubjectKeyWrapping"/>); a rotation
/// keeps older rows readable; plain rows of earlier builds still read; a key that cannot be
/// unwrapped fails loudly, never as erased or missing. Run on the real key store and Azurite.
/// </summary>
public sealed class KeyEncryptionKeyTests(AzuriteFixture azurite)
{
    private static readonly byte[] VersionA = RandomNumberGenerator.GetBytes(KeyEncryptionKey.KeyBytes);
    private static readonly byte[] VersionB = RandomNumberGenerator.GetBytes(KeyEncryptionKey.KeyBytes);

    private readonly FakeLogCollector log = FakeLogCollector.Create(new FakeLogCollectorOptions());

    private static ConfiguredKeyEncryptionKeys Configured(string current, params (string Version, byte[] Key)[] keys) =>
        new(new KeyEncryptionKeyOptions { Keys = keys.ToDictionary(key => key.Version, key => Convert.ToBase64String(key.Key)), CurrentVersion = current });

    private SubjectKeyStore Store(string connectionString, string eventsTable, IKeyEncryptionKeys? keyEncryptionKeys) => new(
        new TableServiceClient(connectionString),
        Options.Create(new PersonalDataOptions()),
        Options.Create(new EventStoreOptions { TableName = eventsTable }),
        new SubjectKeyWrapping(keyEncryptionKeys, new FakeLogger<SubjectKeyWrapping>(log)));

    private SubjectKeyStore Store(string eventsTable, IKeyEncryptionKeys? keyEncryptionKeys) => Store(azurite.ConnectionString, eventsTable, keyEncryptionKeys);

    private async Task<TableEntity> RowAsync(string eventsTable, string subjectId, CancellationToken ct) =>
        (await new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(eventsTable))
            .GetEntityAsync<TableEntity>(KeyEncoding.Encode(subjectId), "key", cancellationToken: ct)).Value;

    private static string Subject() => "subject-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task With_a_key_encryption_key_no_table_of_the_account_holds_a_subject_key_in_any_encoding()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var account = await Azurite.StartNewAsync(cancellationToken: ct);
        var eventsTable = TableNames.Unique("kekscan");
        var store = Store(account.ConnectionString, eventsTable, Configured("a", ("a", VersionA)));
        var keys = new List<byte[]>();
        for (var i = 0; i < 20; i++)
        {
            var subjectId = Subject();
            var created = (await store.CreateAsync(subjectId, ct)).Key!;
            var read = (await store.ReadAsync(subjectId, ct))!.Key!;
            Assert.Equal(created, read);
            keys.Add(read);
        }

        // The control: a key stored without a key-encryption key is found by the same scan.
        var plainSubject = Subject();
        var plainKey = (await Store(account.ConnectionString, eventsTable, null).CreateAsync(plainSubject, ct)).Key!;

        var scan = await StorageScan.ReadAsync(account.ConnectionString, queuesConnectionString: null, ct);
        Assert.NotEmpty(scan.FindAnywhere(plainKey));
        Assert.All(keys, key => Assert.Empty(scan.FindAnywhere(key)));
        Assert.Empty(scan.FindAnywhere(VersionA));
    }

    [Fact]
    public async Task Keys_wrapped_with_an_older_version_still_read_after_a_rotation_and_new_keys_use_the_newest()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("kekrotate");
        var before = Subject();
        var beforeKey = (await Store(eventsTable, Configured("a", ("a", VersionA))).CreateAsync(before, ct)).Key!;

        var rotated = Store(eventsTable, Configured("b", ("a", VersionA), ("b", VersionB)));
        Assert.Equal(beforeKey, (await rotated.ReadAsync(before, ct))!.Key);
        var after = Subject();
        var afterKey = (await rotated.CreateAsync(after, ct)).Key!;
        Assert.Equal(afterKey, (await rotated.ReadAsync(after, ct))!.Key);

        Assert.Equal("a", (await RowAsync(eventsTable, before, ct)).GetString("KeyEncryptionKeyVersion"));
        Assert.Equal("b", (await RowAsync(eventsTable, after, ct)).GetString("KeyEncryptionKeyVersion"));

        // Version a retired too early: its rows fail loudly, the newer ones still read.
        var retired = Store(eventsTable, Configured("b", ("b", VersionB)));
        Assert.Equal(afterKey, (await retired.ReadAsync(after, ct))!.Key);
        var failure = await Assert.ThrowsAsync<PersonalDataKeyUnreadableException>(() => retired.ReadAsync(before, ct));
        Assert.Contains("'a'", failure.Message, StringComparison.Ordinal);
        Assert.Contains(before, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_keys_written_without_a_key_encryption_key_still_read_once_one_is_configured()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("keklegacy");
        var legacy = Subject();
        var legacyKey = (await Store(eventsTable, null).CreateAsync(legacy, ct)).Key!;
        Assert.Equal(legacyKey, (await RowAsync(eventsTable, legacy, ct)).GetBinary("Key")); // as earlier builds stored it

        var wrapping = Store(eventsTable, Configured("a", ("a", VersionA)));
        Assert.Equal(legacyKey, (await wrapping.ReadAsync(legacy, ct))!.Key);
        var fresh = Subject();
        await wrapping.CreateAsync(fresh, ct);
        var row = await RowAsync(eventsTable, fresh, ct);
        Assert.Null(row.GetBinary("Key"));
        Assert.NotNull(row.GetBinary("WrappedKey"));
    }

    [Fact]
    public async Task A_key_that_the_configured_key_encryption_key_does_not_open_fails_loudly_instead_of_reading_as_erased_or_missing()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("kekwrong");
        var subjectId = Subject();
        await Store(eventsTable, Configured("a", ("a", VersionA))).CreateAsync(subjectId, ct);

        // Another key under the same version name (a configuration mix-up), and no key-encryption key at all.
        foreach (var wrong in new[] { Store(eventsTable, Configured("a", ("a", VersionB))), Store(eventsTable, null) })
        {
            log.Clear();
            var failure = await Assert.ThrowsAsync<PersonalDataKeyUnreadableException>(() => wrong.ReadAsync(subjectId, ct));
            Assert.Contains("not an erasure", failure.Message, StringComparison.Ordinal);
            var record = Assert.Single(log.GetSnapshot());
            Assert.Equal(LogLevel.Critical, record.Level);
            Assert.Contains(subjectId, record.Message, StringComparison.Ordinal);
            Assert.Contains("version a", record.Message, StringComparison.Ordinal);

            // The store never falls back to making a new key over it.
            await Assert.ThrowsAsync<PersonalDataKeyUnreadableException>(() => wrong.CreateAsync(subjectId, ct));
        }

        // A wrapped key moved to another subject's row does not open there either (the subject is bound to it).
        var other = Subject();
        var right = Store(eventsTable, Configured("a", ("a", VersionA)));
        await right.CreateAsync(other, ct);
        var keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(eventsTable));
        var copied = await RowAsync(eventsTable, subjectId, ct);
        await keys.UpsertEntityAsync(new TableEntity(KeyEncoding.Encode(other), "key") { ["WrappedKey"] = copied.GetBinary("WrappedKey"), ["KeyEncryptionKeyVersion"] = "a" }, TableUpdateMode.Replace, ct);
        await Assert.ThrowsAsync<PersonalDataKeyUnreadableException>(() => right.ReadAsync(other, ct));
    }

    [Fact]
    public async Task Erasure_deletes_a_wrapped_key_without_needing_the_key_encryption_key()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventsTable = TableNames.Unique("keferase");
        var subjectId = Subject();
        var withKey = Store(eventsTable, Configured("a", ("a", VersionA)));
        await withKey.CreateAsync(subjectId, ct);

        var erasedAt = DateTimeOffset.UtcNow;
        await Store(eventsTable, null).EraseAsync(subjectId, erasedAt, ct);

        var row = await RowAsync(eventsTable, subjectId, ct);
        Assert.Null(row.GetBinary("WrappedKey"));
        Assert.Null(row.GetBinary("Key"));
        var read = await withKey.ReadAsync(subjectId, ct);
        Assert.True(read!.IsErased);
        Assert.Equal(erasedAt, read.ErasedAt!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void Settings_that_could_not_wrap_a_key_are_refused_at_start_without_showing_a_key()
    {
        var tooShort = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var refused = new[]
        {
            new KeyEncryptionKeyOptions { Keys = { ["a"] = tooShort } },
            new KeyEncryptionKeyOptions { Keys = { ["a"] = "not base64!" } },
            new KeyEncryptionKeyOptions { Keys = { ["a"] = Convert.ToBase64String(VersionA), ["b"] = Convert.ToBase64String(VersionB) } }, // which one is current?
            new KeyEncryptionKeyOptions { Keys = { ["a"] = Convert.ToBase64String(VersionA) }, CurrentVersion = "b" },
            new KeyEncryptionKeyOptions { VaultUri = new Uri("https://kv-test.vault.azure.net/") }, // no secret name
            new KeyEncryptionKeyOptions { VaultUri = new Uri("https://kv-test.vault.azure.net/"), SecretName = "kek", Keys = { ["a"] = Convert.ToBase64String(VersionA) } },
        };

        var validation = new KeyEncryptionKeyOptionsValidation();
        Assert.All(refused, options =>
        {
            var result = validation.Validate(null, new PersonalDataOptions { KeyEncryptionKey = options });
            Assert.True(result.Failed);
            Assert.All(options.Keys.Values, key => Assert.DoesNotContain(key, result.FailureMessage, StringComparison.Ordinal));
        });
        Assert.True(validation.Validate(null, new PersonalDataOptions()).Succeeded); // none: plain keys, as before
        Assert.True(validation.Validate(null, new PersonalDataOptions { KeyEncryptionKey = { Keys = { ["a"] = Convert.ToBase64String(VersionA) } } }).Succeeded);
        Assert.True(validation.Validate(null, new PersonalDataOptions { KeyEncryptionKey = { VaultUri = new Uri("https://kv-test.vault.azure.net/"), SecretName = "kek" } }).Succeeded);
    }

    [Fact]
    public void Keys_are_in_Azure_storage_when_their_connection_is_an_endpoint_reached_with_a_managed_identity()
    {
        static bool InAzure(params (string Key, string Value)[] settings) =>
            OrderFlowSiloExtensions.KeysInAzureStorage(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value))).Build());

        Assert.True(InAzure(("ConnectionStrings:Tables", "https://st1.table.core.windows.net/")));
        Assert.True(InAzure(("ConnectionStrings:Tables", "UseDevelopmentStorage=true"), ("ConnectionStrings:Keys", "https://st2.table.core.windows.net/")));
        Assert.False(InAzure(("ConnectionStrings:Tables", azurite.ConnectionString)));
        Assert.False(InAzure(("ConnectionStrings:Tables", "http://127.0.0.1:10002/devstoreaccount1")));
        Assert.False(InAzure());
    }
}
