using OrderFlow.Testing;

// One Azurite for the whole assembly; every cluster isolates itself with its own tables.
[assembly: AssemblyFixture(typeof(AzuriteFixture))]
