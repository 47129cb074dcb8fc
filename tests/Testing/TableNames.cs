namespace OrderFlow.Testing;

/// <summary>Table names unique to one test or suite (letters and digits, starting with a letter).</summary>
public static class TableNames
{
    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];
}
