using OrderFlow.PersonalData;

namespace OrderFlow.Grains.PersonalData;

/// <summary>Erasure by crypto-shredding: deletes the subject's key through its grain (<see cref="ISubjectKeyGrain.Erase"/>), leaving a tombstone. Idempotent.</summary>
public sealed class SubjectKeyEraser(IGrainFactory grains) : IPersonalDataEraser
{
    public Task EraseAsync(string subjectId) => grains.GetGrain<ISubjectKeyGrain>(subjectId).Erase();
}
