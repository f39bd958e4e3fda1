using System.Globalization;

namespace Sajet.WebFront.Nodes;

/// <summary>The Spanish words the node pages use for containers.</summary>
public static class NodeFormat
{
    public static string Kind(string kind) => kind switch
    {
        "dedicated" => "Dedicado",
        "shared" => "Compartido",
        _ => kind,
    };

    /// <summary>Sajet's lifecycle status of a container, or what Proxmox last reported of it.</summary>
    public static string ContainerStatus(string? status) => status switch
    {
        null => "—",
        "creating" => "Creándose",
        "running" => "En marcha",
        "stopped" => "Parado",
        "failed" => "Fallido",
        "deleted" => "Eliminado",
        "paused" => "En pausa",
        _ => status,
    };

    public static string Slots(NodeContainer c) =>
        c.Kind == "shared" ? string.Create(CultureInfo.InvariantCulture, $"{c.SlotsUsed} de {c.SlotsTotal} plazas") : "—";

    /// <summary>A decimal as the edit form shows it: a point, no trailing zeros.</summary>
    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
