using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Security;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Auth;

public static class AuthServiceCollectionExtensions
{
    public static IServiceCollection AddSajetAuth(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.Section)
            .Configure<IConfiguration>((o, config) =>
            {
                o.JwtSecretKey = config["JWT_SECRET_KEY"] ?? o.JwtSecretKey;
                o.AdminUsername = config["ADMIN_USERNAME"] ?? o.AdminUsername;
                o.AdminPassword = config["ADMIN_PASSWORD"] ?? o.AdminPassword;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SecretProtector(SecretProtector.SecretFrom(sp.GetRequiredService<IConfiguration>())
            ?? throw new InvalidOperationException("Neither SAJET_SECRET_KEY nor JWT_SECRET_KEY is set; secrets at rest cannot be encrypted.")));
        services.AddSingleton<TokenService>();
        services.AddSingleton<Sessions>();
        services.AddSingleton<RevokedSessions>();
        services.AddHostedService(sp => sp.GetRequiredService<RevokedSessions>());
        services.AddSingleton<TwoFactor>();
        services.AddSingleton<LoginService>();
        services.AddSingleton<PasswordChange>();
        services.AddSingleton<PasswordReset>();

        services.AddAuthentication(AccessTokenAuthentication.SchemeName).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(AccessTokenAuthentication.SchemeName)
            .Configure<TokenService, RevokedSessions>(AccessTokenAuthentication.Configure);
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(Roles.TenantPolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Tenant).RequireClaim(SajetClaims.TenantId));
        return services;
    }

    /// <summary>Creates the first admin from ADMIN_USERNAME/ADMIN_PASSWORD when the database has none.</summary>
    public static async Task EnsureFirstAdminAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sajet.Auth");
        if (string.IsNullOrWhiteSpace(options.AdminUsername) || string.IsNullOrEmpty(options.AdminPassword))
        {
            log.LogInformation("ADMIN_USERNAME/ADMIN_PASSWORD not set: no first admin is created");
            return;
        }

        if (Users.PasswordProblem(options.AdminPassword) is not null)
        {
            log.LogWarning("ADMIN_PASSWORD is shorter than {MinLength} characters; choose a longer one", Users.MinPasswordLength);
        }

        if (await Users.EnsureFirstAdminAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), options.AdminUsername, options.AdminPassword))
        {
            log.LogInformation("Created the first admin {Admin}", Users.NormalizeLogin(options.AdminUsername));
        }
    }
}
