using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Runtime;
using Sajet.TestSilo;

// Usage: Sajet.TestSilo <connection string> <silo id> <lease seconds> <max concurrency>
var builder = Host.CreateApplicationBuilder();
builder.Configuration["DATABASE_URL"] = args[0];
builder.Configuration["Runtime:SiloId"] = args[1];
builder.Configuration["Runtime:LeaseDuration"] = TimeSpan.FromSeconds(double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)).ToString();
builder.Configuration["Runtime:MaxConcurrency"] = args[3];
builder.Configuration["Runtime:PollInterval"] = "00:00:00.200";
builder.Configuration["Runtime:BackoffBase"] = "00:00:00.050";
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Services.AddSingleton(new SiloIdentity(args[1]));
builder.Services.AddSajetRuntime(builder.Configuration, g => g.Add<TestGrain>(TestGrain.TypeName));
using var host = builder.Build();
await using (var cmd = host.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(TestGrain.EffectsTable))
{
    await cmd.ExecuteNonQueryAsync();
}

await host.StartAsync();
Console.WriteLine("SILO READY");
await host.WaitForShutdownAsync();
