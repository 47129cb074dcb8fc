namespace OrderFlow.Grains.PersonalData;

/// <summary>
/// Makes a data subject's personal data unreadable for good (crypto-shredding: deletes the
/// subject's key). The customer grain calls it for an erasure before it records
/// <see cref="OrderFlow.Customers.Events.CustomerPersonalDataErased"/>, and again for every repeated
/// erasure, so it must be idempotent: the log never records an erasure whose key still exists.
/// </summary>
public interface IPersonalDataEraser
{
    /// <param name="subjectId">The data subject: the customer id.</param>
    Task EraseAsync(string subjectId);
}
