using System.Globalization;
using System.Text.Json;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Audit;

/// <summary>One line of a detail as an operator reads it: a Spanish label (or the raw key when unknown) and a value or nested lines.</summary>
/// <param name="Label">The Spanish name of the key, or the key itself when <paramref name="KnownKey"/> is false.</param>
/// <param name="Text">A value already in Spanish (yes/no, a state, an action); shown as prose.</param>
/// <param name="Code">A value shown as it is stored (an id, a number, a date, a path); shown as code.</param>
/// <param name="Href">Where the value leads in the admin (a tenant, a node).</param>
public sealed record DetailField(string Label, bool KnownKey, string? Text, string? Code, string? Href, IReadOnlyList<DetailField> Children);

/// <summary>
/// The Spanish names the logs page and its CSV use for event kinds, actors, severities and detail keys. A value
/// without a name here is shown as it is stored (in a code element), so a new kind is still readable, just not translated.
/// </summary>
public static class AuditLabels
{
    /// <summary>The audit trail's kinds (what AuditLog writers record), in the order the filter lists them.</summary>
    public static readonly IReadOnlyList<(string Kind, string Label)> AuditKinds =
    [
        ("auth.login_succeeded", "Inicio de sesión correcto"),
        ("auth.login_failed", "Inicio de sesión fallido"),
        ("auth.login_locked", "Intento con la cuenta bloqueada"),
        ("auth.account_locked", "Cuenta bloqueada"),
        ("auth.recovery_code_used", "Código de recuperación usado"),
        ("auth.refresh_reuse", "Sesión renovada reutilizada"),
        ("auth.logout", "Cierre de sesión"),
        ("auth.2fa_setup_started", "Configuración de 2FA iniciada"),
        ("auth.2fa_enabled", "2FA activada"),
        ("auth.2fa_disabled", "2FA desactivada"),
        ("auth.password_changed", "Contraseña cambiada"),
        ("auth.password_change_failed", "Cambio de contraseña rechazado"),
        ("auth.password_reset_requested", "Enlace para restablecer la contraseña enviado"),
        ("auth.password_reset_unknown", "Restablecimiento pedido para una dirección sin cuenta"),
        ("auth.password_reset", "Contraseña restablecida con el enlace"),
        ("auth.password_reset_refused", "Enlace de restablecimiento rechazado"),
        ("user.sessions_ended", "Sesiones cerradas por un administrador"),
        ("security.rate_limited", "Límite de peticiones superado"),
        ("stripe.bad_signature", "Firma de Stripe no válida"),
        ("settings.change", "Ajustes modificados"),
        ("settings.mail.change", "Ajustes de correo modificados"),
        ("plan.change", "Plan modificado"),
        ("node.register", "Nodo registrado"),
        ("node.maintenance", "Mantenimiento de nodo"),
        ("tenant.resolve", "Resolución de un cliente"),
        ("tenant.suspend", "Cliente suspendido"),
        ("tenant.resume", "Cliente reactivado"),
        ("tenant.billing_portal", "Portal de facturación abierto"),
    ];

    /// <summary>The kinds given to the tenants' history rows, which have none of their own (see LogSearch).</summary>
    public static readonly IReadOnlyList<(string Kind, string Label)> HistoryKinds =
    [
        (LogSearch.HistoryStateKind, "Cambio de estado"),
        (LogSearch.HistoryNoteKind, "Anotación del historial"),
    ];

    /// <summary>The kinds given to mail rows: their outbox status.</summary>
    public static readonly IReadOnlyList<(string Kind, string Label)> MailKinds =
    [
        ("mail.pending", "Correo pendiente"),
        ("mail.sent", "Correo enviado"),
        ("mail.dead", "Correo abandonado"),
    ];

    public static readonly IReadOnlyList<(string Source, string Label)> Sources =
    [
        (LogSearch.AuditSource, "Auditoría de seguridad"),
        (LogSearch.HistorySource, "Historial de clientes"),
        (LogSearch.MailSource, "Correo"),
    ];

    /// <summary>Severities from least to most grave; the filter means "this one or graver".</summary>
    public static readonly IReadOnlyList<(string Severity, string Label, string AtLeast)> Severities =
    [
        ("info", "Información", "Todas"),
        ("warning", "Aviso", "Avisos o más graves"),
        ("error", "Error", "Errores o más graves"),
        ("critical", "Crítica", "Solo críticas"),
    ];

    private static readonly Dictionary<string, string> ByKind = AuditKinds.Concat(HistoryKinds).Concat(MailKinds).ToDictionary(k => k.Kind, k => k.Label);

    /// <summary>Who the system's own actors are; people appear by their login name or e-mail.</summary>
    private static readonly Dictionary<string, string> ByActor = new()
    {
        ["anonymous"] = "Anónimo",
        ["unknown"] = "Desconocido",
        ["system"] = "Sistema",
        ["stripe"] = "Stripe",
        ["signup"] = "Alta",
        ["checkout"] = "Regreso del pago",
        ["capacity"] = "Capacidad",
        ["placement"] = "Colocación",
        ["reconcile"] = "Conciliación",
        ["operator"] = "Operador",
        ["poll"] = "Sondeo de nodos",
    };

    private const string ReminderPrefix = "reminder:";
    private const string UserPrefix = "user:";

    /// <summary>The tenant grain's durable reminders (TenantGrain), each a task the system does later by itself.</summary>
    private static readonly Dictionary<string, string> ByReminder = new()
    {
        ["step"] = "paso de aprovisionamiento",
        ["billing-sync"] = "sincronización de facturación",
        ["reconcile"] = "conciliación",
        ["compensate"] = "limpieza",
        ["refund"] = "reembolso",
        ["release-subdomain"] = "liberación del subdominio",
        ["waiting-check"] = "revisión de la espera",
    };

    private static readonly Dictionary<string, string> ByKey = new()
    {
        ["tenant"] = "Cliente",
        ["action"] = "Acción",
        ["node"] = "Nodo",
        ["role"] = "Rol",
        ["reason"] = "Motivo",
        ["method"] = "Método",
        ["lockedUntil"] = "Bloqueado hasta",
        ["userId"] = "Usuario",
        ["session"] = "Sesión",
        ["minutes"] = "Minutos",
        ["limit"] = "Límite",
        ["path"] = "Ruta",
        ["before"] = "Antes",
        ["after"] = "Después",
        ["plan"] = "Plan",
        ["maintenance"] = "Mantenimiento",
        ["step"] = "Paso",
        ["eligible"] = "Apto",
        ["score"] = "Puntuación",
        ["priceCents"] = "Precio (centavos)",
        ["active"] = "Activo",
        ["headroom"] = "Margen",
        ["strategy"] = "Estrategia",
        ["pollIntervalSeconds"] = "Intervalo de sondeo (s)",
        ["alertThreshold"] = "Umbral de alerta",
        ["alertClearBelow"] = "Fin de alerta por debajo de",
        ["status"] = "Estado",
        ["attempts"] = "Intentos",
        ["lastError"] = "Último error",
        ["sentAt"] = "Enviado",
        ["template"] = "Plantilla",
        ["passwordChanged"] = "Contraseña cambiada",
        ["passwordSet"] = "Con contraseña",
        ["host"] = "Servidor",
        ["port"] = "Puerto",
        ["tls"] = "Cifrado",
        ["user"] = "Usuario",
        ["from"] = "Remitente",
    };

    /// <summary>Stored codes that have a Spanish reading, whatever key holds them.</summary>
    private static readonly Dictionary<string, string> ByValue = new()
    {
        ["sent"] = "enviado",
        ["dead"] = "abandonado",
        ["admin"] = "administrador",
        ["tenant"] = "cliente",
        ["unknown_login"] = "usuario desconocido",
        ["wrong_role"] = "rol equivocado",
        ["wrong_password"] = "contraseña incorrecta",
        ["wrong_second_factor"] = "segundo factor incorrecto",
        ["password"] = "contraseña",
        ["totp"] = "código 2FA",
        ["recovery_code"] = "código de recuperación",
        ["MissingHeader"] = "falta la cabecera de firma",
        ["MalformedHeader"] = "cabecera de firma mal formada",
        ["NoV1Signature"] = "sin firma v1",
        ["TimestampOutsideTolerance"] = "firma caducada",
        ["SignatureMismatch"] = "la firma no coincide",
        ["spread"] = "repartir",
        ["binpack"] = "compactar",
    };

    public static string Kind(string kind) => ByKind.GetValueOrDefault(kind) ?? kind;

    public static bool IsKnownKind(string kind) => ByKind.ContainsKey(kind);

    public static string Source(string source) => Sources.FirstOrDefault(s => s.Source == source).Label ?? source;

    public static string Severity(string severity) => Severities.FirstOrDefault(s => s.Severity == severity).Label ?? severity;

    public static string SeverityBadge(string severity) => severity switch
    {
        "warning" => "badge-warning",
        "error" or "critical" => "badge-bad",
        _ => "badge-neutral",
    };

    /// <summary>The Spanish name of a system actor ("Sistema", "Recordatorio (reembolso)"), or the person's own login.</summary>
    public static string Actor(string actor)
    {
        if (ByActor.TryGetValue(actor, out var label))
        {
            return label;
        }

        if (actor.StartsWith(ReminderPrefix, StringComparison.Ordinal))
        {
            var name = actor[ReminderPrefix.Length..];
            return $"Recordatorio ({ByReminder.GetValueOrDefault(name) ?? name})";
        }

        return actor.StartsWith(UserPrefix, StringComparison.Ordinal) ? $"Usuario {actor[UserPrefix.Length..]}" : actor;
    }

    /// <summary>
    /// The LIKE pattern for the "who" filter: typing a Spanish name ("Sistema", "Recordatorio") finds that actor;
    /// anything else is searched for inside the stored actor, case-insensitively.
    /// </summary>
    public static string ActorPattern(string typed)
    {
        var text = typed.Trim();
        if (ByActor.FirstOrDefault(a => string.Equals(a.Value, text, StringComparison.OrdinalIgnoreCase)).Key is { } code)
        {
            return TenantList.EscapeLike(code);
        }

        return string.Equals(text, "Recordatorio", StringComparison.OrdinalIgnoreCase)
            ? TenantList.EscapeLike(ReminderPrefix) + "%"
            : "%" + TenantList.EscapeLike(text) + "%";
    }

    /// <summary>A stored detail as lines of Spanish labels and values, nested objects and lists as nested lines.</summary>
    public static IReadOnlyList<DetailField> Details(JsonElement detail) => detail.ValueKind switch
    {
        JsonValueKind.Object => [.. detail.EnumerateObject().Select(p => Field(p.Name, p.Value))],
        JsonValueKind.Array => [.. detail.EnumerateArray().Select((item, i) => Field(null, item, i + 1))],
        JsonValueKind.Null or JsonValueKind.Undefined => [],
        _ => [Field(null, detail, 1)],
    };

    public static IReadOnlyList<DetailField> Details(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var doc = JsonDocument.Parse(json);
        return Details(doc.RootElement);
    }

    private static DetailField Field(string? key, JsonElement value, int index = 0)
    {
        var known = key is null || ByKey.ContainsKey(key);
        var label = key is null ? index.ToString(CultureInfo.InvariantCulture) : ByKey.GetValueOrDefault(key) ?? key;
        return value.ValueKind switch
        {
            JsonValueKind.Object or JsonValueKind.Array when Details(value) is { Count: > 0 } children => new(label, known, null, null, null, children),
            JsonValueKind.Object or JsonValueKind.Array => new(label, known, "ninguno", null, null, []),
            JsonValueKind.True => new(label, known, "sí", null, null, []),
            JsonValueKind.False => new(label, known, "no", null, null, []),
            JsonValueKind.Null => new(label, known, "—", null, null, []),
            JsonValueKind.String => StringField(label, known, key, value.GetString()!),
            _ => new(label, known, null, value.GetRawText(), null, []),
        };
    }

    private static DetailField StringField(string label, bool known, string? key, string value) => key switch
    {
        "tenant" => new(label, known, null, value, $"/admin/tenants/{Uri.EscapeDataString(value)}", []),
        "node" => new(label, known, null, value, $"/admin/nodes/{Uri.EscapeDataString(value)}", []),
        "action" => new(label, known, TenantLabels.Action(value), null, null, []),
        "status" or "from" or "to" => new(label, known, TenantLabels.Status(value), null, null, []),
        _ when ByValue.TryGetValue(value, out var spanish) => new(label, known, spanish, null, null, []),
        _ => new(label, known, null, value, null, []),
    };
}
