namespace OrderFlow.Grains.PersonalData;

/// <summary>What <see cref="PersonalDataProtector.ProtectAsync"/> does with personal data of an erased subject.</summary>
public enum WhenErased
{
    /// <summary>Refuse to store it (<see cref="PersonalDataErasedException"/>): new personal data of an erased subject.</summary>
    Refuse,

    /// <summary>Store the erased marker instead: a snapshot re-stating data that was stored before the erasure.</summary>
    WriteErasedMarker,
}
