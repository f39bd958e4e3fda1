namespace Sajet.Simulators.Odoo;

public sealed class OdooSimulatorOptions
{
    /// <summary>Odoo's default; 0 picks a free port (read the real one from <see cref="OdooSimulator.BaseUrl"/>).</summary>
    public int Port { get; set; } = 8069;

    /// <summary>The master password (odoo.conf admin_passwd); Odoo's default when unset is literally "admin".</summary>
    public string MasterPassword { get; set; } = "admin";

    /// <summary>odoo.conf list_db; when false every db-service management call fails with AccessDenied.</summary>
    public bool ListDb { get; set; } = true;

    public string ServerVersion { get; set; } = "18.0";

    /// <summary>Seeds the fault switches so that error rates are reproducible.</summary>
    public int Seed { get; set; } = 1;

    public bool LogToConsole { get; set; }
}
