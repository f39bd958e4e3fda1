using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>How admin pages write numbers, times and the answers of the API handlers they share.</summary>
public static class AdminFormat
{
    /// <summary>Orleans' silo status (as /health reports it) in Spanish.</summary>
    public static string OrleansStatus(string status) => status switch
    {
        "active" => "activo",
        "joining" or "created" => "uniéndose",
        "shutting_down" or "stopping" => "apagándose",
        "dead" => "muerto",
        _ => status,
    };

    public static string Gib(long bytes) => Sajet.Grains.Interfaces.Es.Gib(bytes);

    public static string Percent(double fraction) => Sajet.Grains.Interfaces.Es.Percent(fraction);

    public static string Ratio(double used, double total) => total > 0 ? Percent(used / total) : "—";

    /// <summary>Times in UTC, the zone of every log and of Proxmox, so operators can match them.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static string Time(DateTime at) => Time(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)));

    public static string Iso(DateTime at) => DateTime.SpecifyKind(at, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan span) => span.TotalDays >= 1
        ? $"{(int)span.TotalDays} d {span.Hours} h"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{Math.Max(0, (int)span.TotalMinutes)} min";

    /// <summary>The Spanish explanation an API handler gave when it refused, or null when it accepted.</summary>
    public static string? ErrorOf(IResult result) => result switch
    {
        ValidationProblem v => string.Join(" ", v.ProblemDetails.Errors.SelectMany(e => e.Value)),
        ProblemHttpResult p => p.ProblemDetails.Detail ?? p.ProblemDetails.Title,
        _ => null,
    };

    /// <summary>Per-field messages of a refused request, keyed as the API names the fields.</summary>
    public static IDictionary<string, string[]> FieldErrorsOf(IResult result) =>
        result is ValidationProblem v ? v.ProblemDetails.Errors : new Dictionary<string, string[]>();
}
