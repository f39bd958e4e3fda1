using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sajet.Simulators.Proxmox;

internal static class SimulatorControl
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private sealed record NodeLoad(double? Cpu, long? MemoryUsedBytes);

    private sealed record ContainerLoadBody(double? Cpu, long? MemoryBytes, long? DiskBytes);

    private sealed record MoveBody(string Target);

    private sealed record StorageBody(long TotalBytes);

    /// <summary>
    /// Fault switches and state shortcuts for the simulated cluster, outside `/api2` and without PVE auth,
    /// answered only to loopback clients. All bodies are JSON (camelCase); every call has an in-process twin on
    /// <see cref="ProxmoxCluster"/>.
    /// <code>
    /// GET  /_sim/state                              nodes, containers, running tasks
    /// POST /_sim/reset                              clear every fault and load override, all nodes online
    /// GET  /_sim/requests?method=GET&amp;path=/version  how many API requests arrived for that method and path
    /// POST /_sim/faults/errors                      {pathPattern, rate, status, message, method?, count?}   glob: * in a segment, ** across
    /// POST /_sim/faults/latency                     {pathPattern, delay:"00:00:02", method?}
    /// POST /_sim/faults/timeout-after-work          {pathPattern, mode:"hang"|"abort", method?, count?}
    /// POST /_sim/faults/tasks                       {outcome:"fail"|"stuck", taskType?, vmid?, message?, count?}
    /// POST /_sim/nodes/{node}/down | /up            node offline: its proxied endpoints answer 595 No route to host
    /// POST /_sim/nodes/{node}/load                  {cpu?, memoryUsedBytes?}
    /// POST /_sim/nodes/{node}/storage/{storage}     {totalBytes}
    /// POST /_sim/containers                         {node, hostname, vmid?, tags?, running?, cores?, memoryMiB?, diskGiB?} → {vmid}
    /// POST /_sim/containers/{vmid}/load             {cpu?, memoryBytes?, diskBytes?}
    /// POST /_sim/containers/{vmid}/move             {target}   HA-style relocation, no task
    /// </code>
    /// </summary>
    public static void MapSimulatorControl(this IEndpointRouteBuilder app, ProxmoxCluster cluster)
    {
        var sim = app.MapGroup("/_sim").AddEndpointFilter(async (context, next) =>
            context.HttpContext.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)
                ? await next(context)
                : Results.StatusCode(StatusCodes.Status403Forbidden));

        sim.MapGet("/state", () => Results.Json(new { nodes = cluster.NodeNames, containers = cluster.Containers }, Json));
        sim.MapGet("/requests", (string method, string path) => Results.Json(new { count = cluster.RequestCount(method, path) }, Json));
        sim.MapPost("/reset", () => Apply(cluster.ResetFaults));
        sim.MapPost("/faults/errors", (HttpRequest r) => Body<ErrorFault>(r, cluster.AddErrorFault));
        sim.MapPost("/faults/latency", (HttpRequest r) => Body<LatencyFault>(r, cluster.AddLatency));
        sim.MapPost("/faults/timeout-after-work", (HttpRequest r) => Body<TimeoutAfterWorkFault>(r, cluster.AddTimeoutAfterWork));
        sim.MapPost("/faults/tasks", (HttpRequest r) => Body<TaskFault>(r, cluster.AddTaskFault));
        sim.MapPost("/nodes/{node}/down", (string node) => Apply(() => cluster.SetNodeOnline(node, false)));
        sim.MapPost("/nodes/{node}/up", (string node) => Apply(() => cluster.SetNodeOnline(node, true)));
        sim.MapPost("/nodes/{node}/load", (string node, HttpRequest r) => Body<NodeLoad>(r, b => cluster.SetNodeLoad(node, b.Cpu, b.MemoryUsedBytes)));
        sim.MapPost("/nodes/{node}/storage/{storage}", (string node, string storage, HttpRequest r) => Body<StorageBody>(r, b => cluster.SetStorageSize(node, storage, b.TotalBytes)));
        sim.MapPost("/containers", async (HttpRequest r) =>
        {
            var spec = await Read<ExternalContainerSpec>(r);
            return spec is null ? Results.BadRequest(new { error = "body required" }) : Run(() => Results.Json(new { vmid = cluster.CreateExternalContainer(spec) }, Json));
        });
        sim.MapPost("/containers/{vmid:int}/load", (int vmid, HttpRequest r) => Body<ContainerLoadBody>(r, b => cluster.SetContainerLoad(vmid, b.Cpu, b.MemoryBytes, b.DiskBytes)));
        sim.MapPost("/containers/{vmid:int}/move", (int vmid, HttpRequest r) => Body<MoveBody>(r, b => cluster.MoveContainer(vmid, b.Target)));
    }

    private static async Task<T?> Read<T>(HttpRequest request) => await JsonSerializer.DeserializeAsync<T>(request.Body, Json);

    private static async Task<IResult> Body<T>(HttpRequest request, Action<T> apply)
    {
        T? body;
        try
        {
            body = await Read<T>(request);
        }
        catch (JsonException ex)
        {
            return Results.BadRequest(new { error = ex.Message });
        }

        return body is null ? Results.BadRequest(new { error = "body required" }) : Apply(() => apply(body));
    }

    private static IResult Apply(Action action) => Run(() =>
    {
        action();
        return Results.Json(new { ok = true }, Json);
    });

    private static IResult Run(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (ArgumentException ex)
        {
            return Results.BadRequest(new { error = ex.Message });
        }
    }
}
