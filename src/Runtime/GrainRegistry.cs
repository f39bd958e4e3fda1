using Microsoft.Extensions.DependencyInjection;

namespace Sajet.Runtime;

/// <summary>Maps grain type names to grain classes. Filled at start-up; read-only afterwards.</summary>
public sealed class GrainRegistry
{
    private readonly Dictionary<string, Type> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _byType = [];

    public GrainRegistry Add<TGrain>(string typeName)
        where TGrain : Grain => Add(typeof(TGrain), typeName);

    public GrainRegistry Add(Type grainClass, string typeName)
    {
        if (!typeof(Grain).IsAssignableFrom(grainClass))
        {
            throw new ArgumentException($"{grainClass.Name} is not a grain", nameof(grainClass));
        }

        _byName.Add(typeName, grainClass);
        _byType.Add(grainClass, typeName);
        return this;
    }

    public string NameOf<TGrain>()
        where TGrain : Grain => NameOf(typeof(TGrain));

    public string NameOf(Type grainClass) =>
        _byType.TryGetValue(grainClass, out var name) ? name : throw new InvalidOperationException($"Grain {grainClass.Name} is not registered");

    public bool TryCreate(string typeName, IServiceProvider services, out Grain? grain)
    {
        if (_byName.TryGetValue(typeName, out var type))
        {
            grain = (Grain)ActivatorUtilities.CreateInstance(services, type);
            return true;
        }

        grain = null;
        return false;
    }
}
