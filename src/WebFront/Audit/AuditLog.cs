using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Sajet.WebFront.Audit;

public enum AuditSeverity
{
    Info,
    Warning,
    Critical,
}

/// <summary>Where the JSON-lines copy of the audit trail goes (section <c>Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Directory of security_audit.log; relative paths are relative to the working directory. Created if missing.</summary>
    [Required]
    public string Directory { get; set; } = "logs";
}

/// <summary>
/// The security audit trail: a row in <c>audit_log</c> and a JSON line in <c>logs/security_audit.log</c>, so the
/// trail survives a database restore and can be shipped by a log collector. Callers pass facts, never secrets:
/// no passwords, tokens, TOTP seeds or recovery codes in <c>detail</c>. Writing never throws: an audit failure is
/// logged and must not turn a refused login into a 500.
/// </summary>
public sealed class AuditLog(NpgsqlDataSource db, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditLog> log)
{
    public const string FileName = "security_audit.log";

    private const string Insert = """
        INSERT INTO audit_log (at, kind, actor, ip, detail, severity)
        VALUES (@at, @kind, @actor, @ip, @detail::jsonb, @severity)
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _fileLock = new();

    public string FilePath => Path.GetFullPath(Path.Combine(options.Value.Directory, FileName));

    /// <summary>Records an event caused by the current request: the actor is the signed-in user, else "anonymous".</summary>
    public Task WriteAsync(HttpContext http, string kind, object? detail = null, AuditSeverity severity = AuditSeverity.Info, string? actor = null) =>
        WriteAsync(kind, actor ?? ActorOf(http.User), http.Connection.RemoteIpAddress?.ToString(), detail, severity);

    /// <summary>Takes no cancellation token on purpose: the event is recorded even when the client has gone away.</summary>
    public async Task WriteAsync(string kind, string actor, string? ip, object? detail = null, AuditSeverity severity = AuditSeverity.Info)
    {
        var at = time.GetUtcNow();
        var detailJson = JsonSerializer.Serialize(detail ?? new { }, Json);
        var severityName = severity.ToString().ToLowerInvariant();
        try
        {
            await using var cmd = db.CreateCommand(Insert);
            cmd.Parameters.AddWithValue("at", at);
            cmd.Parameters.AddWithValue("kind", kind);
            cmd.Parameters.AddWithValue("actor", actor);
            cmd.Parameters.AddWithValue("ip", (object?)ip ?? DBNull.Value);
            cmd.Parameters.AddWithValue("detail", detailJson);
            cmd.Parameters.AddWithValue("severity", severityName);
            await cmd.ExecuteNonQueryAsync(default);
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Could not store audit event {Kind} in the database", kind);
        }

        var line = JsonSerializer.Serialize(new { at, kind, actor, ip, severity = severityName, detail = JsonDocument.Parse(detailJson).RootElement }, Json);
        try
        {
            // One short synchronous append under a lock keeps concurrent lines whole.
            lock (_fileLock)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
                File.AppendAllText(FilePath, line + "\n", Encoding.UTF8);
            }
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Could not append audit event {Kind} to {AuditFile}", kind, FilePath);
        }

        if (severity != AuditSeverity.Info)
        {
            log.LogWarning("Audit {Kind} by {Actor} from {Ip}", kind, actor, ip);
        }
    }

    public static string ActorOf(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirstValue("email") ?? user.FindFirstValue("sub") ?? "unknown" : "anonymous";
}
