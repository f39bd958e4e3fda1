using Npgsql;
using Sajet.Persistence.Migrations;
using Sajet.SiloHosting;

// The silo host. Verbs: run (default) — join the Orleans cluster and run the grains; migrate — apply sql/ and exit.
var verb = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "run";
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args.Where(a => a != verb).ToArray(),
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json beside the binary, wherever it is started from
});
builder.AddSajetSilo();

using var host = builder.Build();
var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sajet.Silo");
switch (verb)
{
    case "migrate":
        var applied = await Migrator.ApplyAsync(host.Services.GetRequiredService<NpgsqlDataSource>(), log);
        log.LogInformation("Database is up to date ({Applied} migrations applied now)", applied);
        return 0;
    case "run":
        await Migrator.ApplyAsync(host.Services.GetRequiredService<NpgsqlDataSource>(), log);
        await host.RunAsync();
        return 0;
    default:
        await Console.Error.WriteLineAsync($"Unknown verb '{verb}'. Verbs: run, migrate");
        return 2;
}
