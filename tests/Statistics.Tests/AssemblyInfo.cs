using OrderFlow.Testing;

// One Azurite for the whole assembly; every cluster and host isolates itself with its own tables.
[assembly: AssemblyFixture(typeof(AzuriteFixture))]
