using System.Globalization;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Sajet.WebFront.Settings;

/// <summary>The operator settings that grains read from the settings table (sql/0003), as the admin page edits them.</summary>
public sealed record OperatorSettings(double Headroom, string Strategy, int PollIntervalSeconds, double AlertThreshold, double AlertClearBelow)
{
    public const string HeadroomKey = "placement.headroom";
    public const string StrategyKey = "placement.strategy";
    public const string PollIntervalKey = "nodes.poll_interval_seconds";
    public const string AlertThresholdKey = "nodes.alert_threshold";
    public const string AlertClearBelowKey = "nodes.alert_clear_below";

    public static readonly IReadOnlyList<string> Strategies = ["spread", "binpack"];

    // The defaults are the migration's, for a key an operator deleted by hand.
    private const string ReadSql = """
        SELECT coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'placement.headroom'), 0.8) AS Headroom,
               coalesce((SELECT value #>> '{}' FROM settings WHERE key = 'placement.strategy'), 'spread') AS Strategy,
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.poll_interval_seconds'), 60)::int AS PollIntervalSeconds,
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.alert_threshold'), 0.8) AS AlertThreshold,
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.alert_clear_below'), 0.7) AS AlertClearBelow
        """;

    private const string UpsertSql = """
        INSERT INTO settings (key, value) VALUES (@key, @value::jsonb)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
        """;

    public static async Task<OperatorSettings> ReadAsync(NpgsqlConnection conn, CancellationToken ct) =>
        await conn.QuerySingleAsync<OperatorSettings>(new CommandDefinition(ReadSql, cancellationToken: ct));

    /// <summary>
    /// Parses and checks the form's text; null and Spanish messages per field when anything is off, so nothing is half
    /// stored. Decimals take a comma or a point: operators write 0,8 as often as 0.8.
    /// </summary>
    public static OperatorSettings? Parse(string? headroom, string? strategy, string? pollInterval, string? alertThreshold, string? alertClearBelow,
        Dictionary<string, string> errors)
    {
        var h = Fraction(headroom);
        if (h is not (>= 0.05 and <= 1))
        {
            errors["headroom"] = "El margen de colocación debe ser un número entre 0,05 y 1 (fracción de la capacidad que se puede usar).";
        }

        if (strategy is null || !Strategies.Contains(strategy))
        {
            errors["strategy"] = "La estrategia debe ser «spread» (repartir) o «binpack» (llenar).";
        }

        var poll = int.TryParse(pollInterval, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : (int?)null;
        if (poll is not (>= 5 and <= 3600))
        {
            errors["pollInterval"] = "El intervalo de sondeo debe ser un número entero de segundos entre 5 y 3600.";
        }

        var raise = Fraction(alertThreshold);
        if (raise is not (> 0 and <= 1))
        {
            errors["alertThreshold"] = "El umbral de alerta debe ser un número mayor que 0 y como mucho 1.";
        }

        var clear = Fraction(alertClearBelow);
        if (clear is not (> 0 and <= 1))
        {
            errors["alertClearBelow"] = "El umbral para cerrar alertas debe ser un número mayor que 0 y como mucho 1.";
        }
        else if (raise is { } r && clear >= r)
        {
            // Hysteresis: an alert that clears at or above where it is raised would flap on every poll.
            errors["alertClearBelow"] = "El umbral para cerrar alertas debe ser menor que el umbral de alerta.";
        }

        return errors.Count == 0 ? new OperatorSettings(h!.Value, strategy!, poll!.Value, raise!.Value, clear!.Value) : null;
    }

    public async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        foreach (var (key, value) in new (string, object)[]
        {
            (HeadroomKey, Headroom), (StrategyKey, Strategy), (PollIntervalKey, PollIntervalSeconds), (AlertThresholdKey, AlertThreshold), (AlertClearBelowKey, AlertClearBelow),
        })
        {
            await conn.ExecuteAsync(new CommandDefinition(UpsertSql, new { key, value = JsonSerializer.Serialize(value) }, tx, cancellationToken: ct));
        }
    }

    private static double? Fraction(string? text) =>
        double.TryParse(text?.Trim().Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;
}
