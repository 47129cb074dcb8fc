namespace OrderFlow.Grains.Projections.WriteBehind;

/// <summary>
/// The grain directory of the grains that write their state over a conflict (<see cref="OwnStateWrites"/>)
/// and count on being their rows' only writer: Orleans' strongly consistent in-cluster directory,
/// registered by every silo under this name. The default directory allows two activations of a grain
/// while silos join and leave; two activations of a day each pushed the same revision of the day to its
/// month, which kept one push's product sales and took the other as a repeat, so the best sellers stayed
/// wrong after a rolling restart. Order grains keep the default directory: their appends are conditional
/// on the stream's version, and clients would wait for the directory while silos join and leave.
/// </summary>
public static class SingleActivationDirectory
{
    public const string Name = "single-activation";
}
