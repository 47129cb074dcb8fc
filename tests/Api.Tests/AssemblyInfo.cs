using OrderFlow.Testing;

// One Azurite for the whole assembly; every host gets its own table (TableNames.Unique).
[assembly: AssemblyFixture(typeof(AzuriteFixture))]
