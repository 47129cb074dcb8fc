using Azure.Data.Tables;

namespace OrderFlow.Grains.EventStore;

/// <summary>Creates a table the first time it is needed in this process; after a failure, the next caller tries again.</summary>
internal sealed class TableCreation(TableClient table)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private volatile bool exists;

    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (exists)
        {
            return;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!exists)
            {
                await table.CreateIfNotExistsAsync(cancellationToken);
                exists = true;
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
