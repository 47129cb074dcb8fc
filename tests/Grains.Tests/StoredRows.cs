using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;

namespace OrderFlow.Grains.Tests;

/// <summary>Rows of a fixture under <c>Fixtures/</c> (captured as an earlier build stored them), written to a table as they were stored.</summary>
public static class StoredRows
{
    /// <summary>Writes the rows of <paramref name="fixture"/>, each property with the EDM type it was stored with.</summary>
    public static async Task LoadAsync(TableClient table, string fixture, CancellationToken cancellationToken)
    {
        await table.CreateIfNotExistsAsync(cancellationToken);
        using var rows = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), cancellationToken));
        foreach (var row in rows.RootElement.EnumerateArray())
        {
            var entity = new TableEntity(row.GetProperty("partitionKey").GetString(), row.GetProperty("rowKey").GetString());
            foreach (var property in row.GetProperty("properties").EnumerateArray())
            {
                var value = property.GetProperty("value").GetString()!;
                entity[property.GetProperty("name").GetString()!] = property.GetProperty("type").GetString() switch
                {
                    "String" => value,
                    "Int32" => int.Parse(value, CultureInfo.InvariantCulture),
                    "DateTime" => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    "Guid" => Guid.Parse(value),
                    var other => throw new InvalidDataException($"The fixture holds a property of type {other}."),
                };
            }

            await table.AddEntityAsync(entity, cancellationToken);
        }
    }
}
