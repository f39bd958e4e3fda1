namespace Sajet.WebFront.Tests.Cluster;

/// <summary>
/// The fault and cost tests run alone, after the rest of this assembly: they kill, freeze and count real processes, and on
/// two cores a neighbouring test's load would stretch failure detection and spoil the idle count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "faults";
}
