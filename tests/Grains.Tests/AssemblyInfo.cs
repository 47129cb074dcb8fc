using OrderFlow.Testing;

// One Azurite for the whole assembly; every cluster fixture isolates itself with its own table.
[assembly: AssemblyFixture(typeof(AzuriteFixture))]

// The slow tests here mostly wait (on storage timeouts, on Azurite's disk writes); let more run at once than there are cores.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
