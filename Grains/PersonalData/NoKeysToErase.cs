namespace OrderFlow.Grains.PersonalData;

/// <summary>The <see cref="IPersonalDataEraser"/> while personal fields are stored without subject keys: there is no key to delete.</summary>
public sealed class NoKeysToErase : IPersonalDataEraser
{
    public Task EraseAsync(string subjectId) => Task.CompletedTask;
}
