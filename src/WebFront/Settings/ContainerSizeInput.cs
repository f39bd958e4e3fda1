using System.Globalization;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Placement;

namespace Sajet.WebFront.Settings;

/// <summary>
/// Container sizes as an operator types them on the settings page (a plan's, the shared container's): whole numbers in
/// the ranges the silo's TenantOptions also enforce, so a saved value is one a silo would have accepted from its own
/// configuration. Each refusal is a Spanish message under the field's key.
/// </summary>
public static class ContainerSizeInput
{
    public static int? Cores(string? text, string field, Dictionary<string, string> errors) =>
        Whole(text, 1, 64, field, errors, "Los núcleos deben ser un número entero entre {0} y {1}.");

    public static int? MemoryMb(string? text, string field, Dictionary<string, string> errors) =>
        Whole(text, 512, 262_144, field, errors, "La memoria debe ser un número entero de MB entre {0} y {1}.");

    public static int? DiskGb(string? text, string field, Dictionary<string, string> errors) =>
        Whole(text, 8, 4096, field, errors, "El disco debe ser un número entero de GB entre {0} y {1}.");

    public static int? Slots(string? text, string field, Dictionary<string, string> errors) =>
        Whole(text, 1, 200, field, errors, "Las plazas deben ser un número entero entre {0} y {1}.");

    /// <summary>The shared container's form; null when any field is off, so nothing is half stored.</summary>
    public static SharedContainerSize? Shared(string? cores, string? memoryMb, string? diskGb, string? slots, Dictionary<string, string> errors)
    {
        var c = Cores(cores, "sharedCores", errors);
        var m = MemoryMb(memoryMb, "sharedMemoryMb", errors);
        var d = DiskGb(diskGb, "sharedDiskGb", errors);
        var s = Slots(slots, "sharedSlots", errors);
        return c is { } vc && m is { } vm && d is { } vd && s is { } vs ? new SharedContainerSize(vc, vm, vd, vs) : null;
    }

    // Digits only: "2.5" cores or "8 GB" is a typo to point out, not a number to guess at.
    private static int? Whole(string? text, int min, int max, string field, Dictionary<string, string> errors, string message)
    {
        if (int.TryParse(text?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors[field] = string.Format(CultureInfo.InvariantCulture, message, Es.Number((decimal)min), Es.Number((decimal)max));
        return null;
    }
}
