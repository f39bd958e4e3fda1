using Microsoft.Extensions.Configuration;
using Npgsql;
using Sajet.Persistence;

namespace Sajet.Cluster;

/// <summary>The connection string Orleans' ADO.NET providers use: Sajet's database, tuned for their statements.</summary>
public static class OrleansDatabase
{
    /// <summary>The ADO.NET invariant the providers load <c>NpgsqlFactory</c> by.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// <c>DATABASE_URL</c> (via <see cref="Database.ConnectionString"/>), with the providers' own pool: Orleans opens a
    /// connection per statement, and its heartbeats must not queue behind Sajet's work in a shared pool (a silo that
    /// cannot write its I-am-alive is voted out).
    /// </summary>
    public static string ConnectionString(IConfiguration configuration, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(Database.ToNpgsql(Database.ConnectionString(configuration)));
        // The providers keep no session state; skipping DISCARD ALL when a connection goes back to the pool halved
        // the commits per state write (1.95 -> 0.97, ORLEANS.md) and keeps auto-prepared statements alive.
        builder.NoResetOnClose = true;
        // About twenty distinct statements, each repeated for the life of the silo: prepare them once per connection.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 20;
        }

        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = applicationName; // tells Orleans' connections apart in pg_stat_activity
        }

        return builder.ConnectionString;
    }
}
