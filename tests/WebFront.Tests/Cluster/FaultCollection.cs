namespace Sajet.WebFront.Tests.Cluster;

/// <summary>
/// The fault and cost tests run alone, after the rest of this assembly: they kill, freeze and count real processes, and on
/// two cores a neighbouring test's load would stretch failure detection and spoil the idle count. DisableParallelization
/// keeps them apart within this assembly; `./sajet test` runs the <see cref="Category"/> trait in a second pass, after
/// every other test assembly has finished, because `dotnet test` runs assemblies side by side.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "faults";
    public const string Category = "Faults";
}
