using Sajet.WebFront.Nodes;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddNodes(builder.Configuration);
var app = builder.Build();
app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
app.MapNodesApi();
app.Run();

public partial class Program;
