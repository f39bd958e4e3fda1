namespace Sajet.Simulators.Odoo;

/// <summary>How the simulated server is unreachable.</summary>
public enum OdooDownMode
{
    Up,

    /// <summary>The listener is closed: clients get "connection refused".</summary>
    ConnectionRefused,

    /// <summary>A reverse proxy in front of a dead Odoo: every request gets 502.</summary>
    BadGateway,
}

public sealed record OdooDatabase(string Name, string Login, string Password, bool InitFailed, bool Demo, string Lang, string? CountryCode, string? Phone);

/// <summary>
/// Everything the simulator holds, kept apart from the web host so that it survives a
/// "connection refused" outage (which closes and reopens the listener).
/// </summary>
internal sealed class OdooSimulatorState(OdooSimulatorOptions options)
{
    public object Gate { get; } = new();
    public Dictionary<string, OdooDatabase> Databases { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, double> ErrorRates { get; } = new(StringComparer.Ordinal);
    public Random Random { get; set; } = new(options.Seed);
    public string MasterPassword { get; set; } = options.MasterPassword;
    public bool ListDb { get; set; } = options.ListDb;
    public TimeSpan CreateDelay { get; set; }
    public bool NextCreateInitFails { get; set; }
    public bool AllCreatesInitFail { get; set; }
    public OdooDownMode Down { get; set; }
    public List<string> CallLog { get; } = [];

    /// <summary>Every HTTP request to /jsonrpc, answered or not (a 502 while down counts too): what a client's retries cost.</summary>
    public int HttpRequests;

    /// <summary>This many next requests are answered 502 (a proxy in front of a restarting Odoo), then service resumes.</summary>
    public int BadGatewayNext;

    public void Reset()
    {
        lock (Gate)
        {
            Databases.Clear();
            ErrorRates.Clear();
            Random = new Random(options.Seed);
            MasterPassword = options.MasterPassword;
            ListDb = options.ListDb;
            CreateDelay = TimeSpan.Zero;
            NextCreateInitFails = false;
            AllCreatesInitFail = false;
            Down = OdooDownMode.Up;
            CallLog.Clear();
            HttpRequests = 0;
            BadGatewayNext = 0;
        }
    }
}
