namespace OrderFlow.PersonalData;

/// <summary>
/// Marks a member that holds personal data (GDPR): it reaches storage only through the event
/// serializer (events and snapshots), never through stream envelopes or projections, so that
/// encrypting it before it is stored is a change to that one place (README "Schema versions").
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter, Inherited = false)]
public sealed class PersonalDataAttribute : Attribute;
