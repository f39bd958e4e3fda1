using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sajet.Persistence;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>
    /// The one <see cref="NpgsqlDataSource"/> of the process, from <c>DATABASE_URL</c> (a Npgsql connection string or a
    /// <c>postgres://</c> URL) or <c>ConnectionStrings:Sajet</c>.
    /// </summary>
    public static IServiceCollection AddSajetDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp => Database.CreateDataSource(Database.ConnectionString(configuration), sp.GetService<ILoggerFactory>()));
        return services;
    }
}

public static class Database
{
    /// <summary>The configured connection string: <c>DATABASE_URL</c>, else <c>ConnectionStrings:Sajet</c>.</summary>
    public static string ConnectionString(IConfiguration configuration) =>
        configuration["DATABASE_URL"] ?? configuration.GetConnectionString("Sajet")
        ?? throw new InvalidOperationException("DATABASE_URL is not set. Run ./sajet dev, or set DATABASE_URL to a PostgreSQL connection string.");

    /// <summary>
    /// Builds a data source; accepts both Npgsql key=value strings and postgres:// URLs. <paramref name="configure"/>
    /// adjusts the connection settings of a data source with a special purpose.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString, ILoggerFactory? loggerFactory = null,
        Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlDataSourceBuilder(ToNpgsql(connectionString));
        // Our connections carry no session state worth resetting; skipping DISCARD ALL saves a round trip per use.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        // Our hot statements (claim, finish, webhook insert) repeat thousands of times: prepare them once per connection.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }

        configure?.Invoke(builder.ConnectionStringBuilder);
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        return builder.Build();
    }

    public static string ToNpgsql(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.Ordinal) && !value.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return value;
        }

        var uri = new Uri(value);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            b.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length > 1)
        {
            b.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        return b.ConnectionString;
    }
}
