namespace OrderFlow.Grains.PersonalData;

/// <summary>A stored payload with its personal members decrypted; <see cref="Erased"/>: some were erased and read as null.</summary>
public sealed record RevealedJson(string Json, bool Erased);
