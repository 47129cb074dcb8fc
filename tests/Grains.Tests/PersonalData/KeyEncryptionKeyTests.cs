using System.Globalization;
using System.Security.Cryptography;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.PersonalData;
using OrderFlow.PersonalData;
using OrderFlow.Silo;
using OrderFlow.Testing;
using OrderFlow.Testing.Hosts;
using OrderFlow.Testing.Logging;

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

    private TableClient KeyTable(string eventsTable) =>
        new TableServiceClient(azurite.ConnectionString).GetTableClient(new PersonalDataOptions().KeysTableNameFor(eventsTable));

    /// <summary>Every row the key table holds for the subject.</summary>
    private async Task<List<TableEntity>> RowsAsync(string eventsTable, string subjectId, CancellationToken ct)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in KeyTable(eventsTable).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(subjectId)}"), cancellationToken: ct))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The subject's one key row.</summary>
    private async Task<TableEntity> RowAsync(string eventsTable, string subjectId, CancellationToken ct) => Assert.Single(await RowsAsync(eventsTable, subjectId, ct));

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
            var created = (await store.CreateAsync(subjectId, ct)).Current!.Material;
            var read = (await store.ReadAsync(subjectId, ct)).Current!.Material;
            Assert.Equal(created, read);
            keys.Add(read);
        }

        // The control: a key stored without a key-encryption key is found by the same scan.
        var plainSubject = Subject();
        var plainKey = (await Store(account.ConnectionString, eventsTable, null).CreateAsync(plainSubject, ct)).Current!.Material;

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
        var beforeKey = (await Store(eventsTable, Configured("a", ("a", VersionA))).CreateAsync(before, ct)).Current!.Material;

        var rotated = Store(eventsTable, Configured("b", ("a", VersionA), ("b", VersionB)));
        Assert.Equal(beforeKey, (await rotated.ReadAsync(before, ct)).Current!.Material);
        var after = Subject();
        var afterKey = (await rotated.CreateAsync(after, ct)).Current!.Material;
        Assert.Equal(afterKey, (await rotated.ReadAsync(after, ct)).Current!.Material);

        Assert.Equal("a", (await RowAsync(eventsTable, before, ct)).GetString("KeyEncryptionKeyVersion"));
        Assert.Equal("b", (await RowAsync(eventsTable, after, ct)).GetString("KeyEncryptionKeyVersion"));

        // Version a retired too early: its rows fail loudly, the newer ones still read.
        var retired = Store(eventsTable, Configured("b", ("b", VersionB)));
        Assert.Equal(afterKey, (await retired.ReadAsync(after, ct)).Current!.Material);
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
        var legacyKey = (await Store(eventsTable, null).CreateAsync(legacy, ct)).Current!.Material;
        Assert.Equal(legacyKey, (await RowAsync(eventsTable, legacy, ct)).GetBinary("Key")); // as earlier builds stored it
        // The one row of the build before key ids, in plain too.
        var beforeKeyIds = Subject();
        var beforeKeyIdsKey = RandomNumberGenerator.GetBytes(SubjectKeyStore.KeyBytes);
        await KeyTable(eventsTable).AddEntityAsync(new TableEntity(KeyEncoding.Encode(beforeKeyIds), SubjectKey.LegacyId) { ["Key"] = beforeKeyIdsKey }, ct);

        var wrapping = Store(eventsTable, Configured("a", ("a", VersionA)));
        Assert.Equal(legacyKey, (await wrapping.ReadAsync(legacy, ct)).Current!.Material);
        Assert.Equal(beforeKeyIdsKey, (await wrapping.ReadAsync(beforeKeyIds, ct)).ById[SubjectKey.LegacyId]);
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
        }

        // A wrapped key does not open in another subject's partition, nor under another key id of its own subject: both are bound to it.
        var right = Store(eventsTable, Configured("a", ("a", VersionA)));
        var wrapped = await RowAsync(eventsTable, subjectId, ct);
        var otherSubject = Subject();
        await KeyTable(eventsTable).AddEntityAsync(new TableEntity(KeyEncoding.Encode(otherSubject), wrapped.RowKey)
        {
            ["WrappedKey"] = wrapped.GetBinary("WrappedKey"), ["KeyEncryptionKeyVersion"] = "a",
        }, ct);
        await Assert.ThrowsAsync<PersonalDataKeyUnreadableException>(() => right.ReadAsync(otherSubject, ct));
        var twoKeys = Subject();
        await right.CreateAsync(twoKeys, ct);
        var own = await RowAsync(eventsTable, twoKeys, ct);
        await KeyTable(eventsTable).AddEntityAsync(new TableEntity(own.PartitionKey, SubjectKeyStore.RowKeyOf(Guid.CreateVersion7().ToString("N")))
        {
            ["WrappedKey"] = own.GetBinary("WrappedKey"), ["KeyEncryptionKeyVersion"] = "a",
        }, ct);
        await Assert.ThrowsAsync<PersonalDataKeyUnreadableException>(() => right.ReadAsync(twoKeys, ct));
        Assert.NotNull((await right.ReadAsync(subjectId, ct)).Current); // the original still opens
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

        var row = await RowAsync(eventsTable, subjectId, ct); // the tombstone only: the wrapped key's row is deleted
        Assert.Null(row.GetBinary("WrappedKey"));
        Assert.Null(row.GetBinary("Key"));
        var read = await withKey.ReadAsync(subjectId, ct);
        Assert.True(read.IsErased);
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

        var validation = new PersonalDataOptionsValidation();
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
    public async Task A_silo_whose_keys_are_in_Azure_storage_warns_at_start_when_they_are_stored_in_plain()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var withKeyEncryptionKey in new[] { false, true })
        {
            var settings = TestClusters.Settings(azurite.ConnectionString, TableNames.Unique("kekwarn"));
            settings["ConnectionStrings:" + OrderFlowSiloExtensions.KeysConnectionName] = "https://keys.invalid.table.core.windows.net/"; // never called here
            if (withKeyEncryptionKey)
            {
                settings["PersonalData:KeyEncryptionKey:Keys:a"] = Convert.ToBase64String(VersionA);
            }

            var started = LogCapture.WarningsAndErrors();
            await using (await TestClusters.StartAsync(settings, ct, configureSilo: silo => silo.Services.AddLogging(logging => logging.AddCapture(started))))
            {
                var warned = started.Messages().Any(message => message.Contains("stored in plain", StringComparison.Ordinal));
                Assert.True(warned != withKeyEncryptionKey, $"with a key-encryption key: {withKeyEncryptionKey}; logged:\n{started.Describe()}");
            }
        }
    }

    /// <summary>
    /// Operations review: a key-encryption key that could not be read (a mistyped secret name, a
    /// missing role, a vault out of reach) showed only at the first command carrying personal data.
    /// A silo reads it once active, without delaying its start: a vault that does not answer is a
    /// warning naming it (a key it cannot use would be critical); a key it reads, no warning.
    /// </summary>
    [Fact]
    public async Task A_silo_reads_its_key_encryption_key_once_active_and_warns_when_the_vault_does_not_answer()
    {
        var ct = TestContext.Current.CancellationToken;
        var closed = new Uri($"https://127.0.0.1:{Azurite.FreePort().ToString(CultureInfo.InvariantCulture)}/");
        foreach (var inVault in new[] { true, false })
        {
            var settings = TestClusters.Settings(azurite.ConnectionString, TableNames.Unique("kekstart"));
            if (inVault)
            {
                settings["PersonalData:KeyEncryptionKey:VaultUri"] = closed.ToString();
                settings["PersonalData:KeyEncryptionKey:SecretName"] = "kek";
            }
            else
            {
                settings["PersonalData:KeyEncryptionKey:Keys:a"] = Convert.ToBase64String(VersionA);
            }

            var started = LogCapture.WarningsAndErrors();
            await using var cluster = await TestClusters.StartAsync(settings, ct, configureSilo: silo => silo.Services.AddLogging(logging => logging.AddCapture(started)));
            await cluster.Silos[0].ServiceProvider.GetRequiredService<KeyEncryptionKeyStartCheck>().Checked.WaitAsync(TimeSpan.FromSeconds(60), ct);

            var warnings = started.Messages().Where(message => message.Contains("key-encryption key", StringComparison.Ordinal)).ToList();
            if (inVault)
            {
                Assert.Contains(warnings, message => message.Contains($"Key Vault secret {closed}secrets/kek", StringComparison.Ordinal) && message.Contains("could not be read at start", StringComparison.Ordinal));
            }
            else
            {
                Assert.Empty(warnings);
            }
        }
    }

    /// <summary>
    /// Review finding: the start check ran on, unawaited, after its silo had stopped (a vault that
    /// does not answer holds it for its retries), and warned then of a vault it no longer needed.
    /// A stop cancels the read and waits for it: the check has ended when the silo has, silently.
    /// </summary>
    [Fact]
    public async Task A_silo_that_stops_while_its_vault_hangs_ends_the_key_check_with_it()
    {
        var ct = TestContext.Current.CancellationToken;
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<System.Net.Sockets.TcpClient>();
        var reached = silent.AcceptTcpClientAsync(ct).AsTask(); // accepted, and never answered
        var settings = TestClusters.Settings(azurite.ConnectionString, TableNames.Unique("kekstop"));
        settings["PersonalData:KeyEncryptionKey:VaultUri"] = $"https://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)}/";
        settings["PersonalData:KeyEncryptionKey:SecretName"] = "kek";
        var logged = LogCapture.WarningsAndErrors();

        KeyEncryptionKeyStartCheck check;
        await using (var cluster = await TestClusters.StartAsync(settings, ct, configureSilo: silo => silo.Services.AddLogging(logging => logging.AddCapture(logged))))
        {
            check = cluster.Silos[0].ServiceProvider.GetRequiredService<KeyEncryptionKeyStartCheck>();
            accepted.Add(await reached.WaitAsync(TimeSpan.FromSeconds(60), ct)); // the check is reading
        }

        Assert.True(check.Checked.IsCompleted, "the check outlived its silo");
        Assert.DoesNotContain(logged.Messages(), message => message.Contains("key-encryption key", StringComparison.Ordinal));
        accepted.ForEach(client => client.Dispose());
    }

    /// <summary>
    /// A vault that cannot be reached is an outage (503, retried later) that names the vault: the
    /// key table's error translation, around the vault's read, named it the key table's (and
    /// before that the event log's).
    /// </summary>
    [Fact]
    public async Task A_key_vault_that_cannot_be_reached_is_named_in_the_failure()
    {
        var ct = TestContext.Current.CancellationToken;
        var closed = new Uri($"https://127.0.0.1:{Azurite.FreePort().ToString(CultureInfo.InvariantCulture)}/");
        var secrets = new SecretClient(closed, new NoCredential(), new SecretClientOptions { Retry = { MaxRetries = 0 } });
        var store = Store(TableNames.Unique("kekvault"), new KeyVaultKeyEncryptionKeys(secrets, "kek", TimeSpan.FromMinutes(1), TimeProvider.System));

        var failure = await Assert.ThrowsAsync<Storage.StorageUnavailableException>(() => store.CreateAsync("vault-subject", ct));

        Assert.StartsWith($"Key Vault secret {closed}secrets/kek could not be reached", failure.Message, StringComparison.Ordinal);
        Assert.False(failure.WriteOutcomeUnknown);
    }

    /// <summary>The vault is not reached, so no token is ever asked for.</summary>
    private sealed class NoCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No token is asked for before the vault answers.");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No token is asked for before the vault answers.");
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
