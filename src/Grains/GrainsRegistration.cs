using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sajet.Runtime;

namespace Sajet.Grains;

public static class GrainsRegistration
{
    /// <summary>Registers every Sajet grain type under its stable type name (the name is stored in the database).</summary>
    public static GrainRegistry AddSajetGrains(this GrainRegistry registry) => registry;

    /// <summary>Services the grains need (integration clients, options).</summary>
    public static IServiceCollection AddSajetGrainServices(this IServiceCollection services, IConfiguration configuration) => services;
}
