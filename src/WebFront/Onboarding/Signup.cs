using System.Net.Mail;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Hosting;
using Stripe;
using Stripe.Checkout;

namespace Sajet.WebFront.Onboarding;

/// <summary>What a newcomer sends to sign up: JSON on /api/checkout, or the /signup form.</summary>
public sealed record SignupRequest(string? CompanyName, string? Email, string? Subdomain, string? Plan, string? Country);

public abstract record SignupResult
{
    /// <summary><paramref name="BrowserToken"/> goes into the signing browser's cookie (<see cref="SignupBrowser"/>).</summary>
    public sealed record Started(string TenantId, string CheckoutUrl, string BrowserToken) : SignupResult;

    public sealed record Invalid(Dictionary<string, string[]> Errors) : SignupResult;

    public sealed record PaymentUnavailable(string Detail) : SignupResult;
}

/// <summary>
/// Signup: validates, claims the subdomain with a row of its own table (<c>signups</c>), creates the Stripe customer and
/// Checkout Session (idempotency keys derived from the tenant id), then hands the tenant to its grain in the same
/// transaction that records the session on the claim. The tenants row is the grain's: it appears when the grain
/// applies the signup. A validation error creates nothing; a Stripe failure removes the claim again.
/// </summary>
public sealed partial class Signup(NpgsqlDataSource db, IStripeClient stripe, GrainOutbox grains, SecretProtector secrets, IOptions<AppOptions> app, ILogger<Signup> logger)
{
    /// <summary>Names that point at our own services, never at a tenant.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal)
    {
        "www", "admin", "api", "mail", "smtp", "imap", "pop", "pop3", "ftp", "ns1", "ns2", "dns", "mx", "app", "apps", "static",
        "cdn", "assets", "docs", "status", "billing", "support", "help", "blog", "dashboard", "portal", "login", "auth",
        "webhook", "webhooks", "sajet", "root", "odoo", "panel", "console", "test", "dev", "staging", "localhost",
    };

    // A name is free when nobody claimed it, or when the grain of the tenant that did has released it (projected to
    // tenants.subdomain_released; sql/0008_signups.sql explains why the release is read there, not written here).
    private const string TakenSql = """
        SELECT 1 FROM signups s LEFT JOIN tenants t ON t.id = s.tenant_id
        WHERE lower(s.subdomain) = @subdomain AND NOT s.released AND NOT coalesce(t.subdomain_released, false)
        """;

    // First the grain's release is copied onto the old claim, then the new claim is inserted: the unique index on live
    // claims decides between concurrent signups (the loser inserts nothing), and a claim nobody released still blocks.
    private const string ReleaseClaimSql = """
        UPDATE signups s SET released = true FROM tenants t
        WHERE t.id = s.tenant_id AND t.subdomain_released AND lower(s.subdomain) = @subdomain AND NOT s.released
        """;

    private const string ClaimSql = """
        INSERT INTO signups (tenant_id, subdomain) VALUES (@id, @subdomain)
        ON CONFLICT DO NOTHING
        """;

    private const string RecordCheckoutSql = """
        UPDATE signups SET stripe_customer_id = @customer, checkout_session_id = @session, checkout_url = @url, browser_token_hash = @browser
        WHERE tenant_id = @id
        """;

    // Only a claim whose checkout was never recorded: the grain was never told about it.
    private const string UndoClaimSql = "DELETE FROM signups WHERE tenant_id = @id AND checkout_session_id IS NULL";

    private string AppUrl => app.Value.PublicBaseUrl;

    public async Task<SignupResult> StartAsync(SignupRequest request, CancellationToken ct)
    {
        var (errors, normalized) = await ValidateAsync(request, ct);
        if (errors.Count > 0)
        {
            return new SignupResult.Invalid(errors);
        }

        var (company, email, subdomain, plan, country) = normalized!.Value;
        var tenantId = "tn_" + Guid.CreateVersion7().ToString("N")[..20];
        if (!await ClaimAsync(tenantId, subdomain, ct))
        {
            // Lost the race for the name to a concurrent signup.
            return new SignupResult.Invalid(new() { ["subdomain"] = ["Ese subdominio ya está en uso."] });
        }

        try
        {
            var customer = await new CustomerService(stripe).CreateAsync(new CustomerCreateOptions
            {
                Email = email,
                Name = company,
                PreferredLocales = ["es"],
                Metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId, ["subdomain"] = subdomain },
            }, new RequestOptions { IdempotencyKey = $"customer-{tenantId}" }, ct);
            var metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId, ["plan"] = plan.Id, ["subdomain"] = subdomain };
            var session = await new SessionService(stripe).CreateAsync(new SessionCreateOptions
            {
                Mode = "subscription",
                Customer = customer.Id,
                ClientReferenceId = tenantId,
                SuccessUrl = $"{AppUrl}/success?session_id={{CHECKOUT_SESSION_ID}}",
                CancelUrl = $"{AppUrl}/signup?plan={plan.Id}&cancelado=1",
                Locale = "es",
                Metadata = metadata,
                SubscriptionData = new SessionSubscriptionDataOptions { Metadata = metadata },
                LineItems =
                [
                    new SessionLineItemOptions
                    {
                        Quantity = 1,
                        PriceData = new SessionLineItemPriceDataOptions
                        {
                            Currency = plan.Currency,
                            UnitAmount = plan.PriceCents,
                            ProductData = new SessionLineItemPriceDataProductDataOptions { Name = $"Sajet {plan.Name} — Odoo alojado" },
                            Recurring = new SessionLineItemPriceDataRecurringOptions { Interval = "month" },
                        },
                    },
                ],
            }, new RequestOptions { IdempotencyKey = $"checkout-{tenantId}" }, ct);

            var password = GeneratePassword();
            var browser = SignupBrowser.NewToken();
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using (var record = new NpgsqlCommand(RecordCheckoutSql, conn, tx))
            {
                record.Parameters.AddWithValue("id", tenantId);
                record.Parameters.AddWithValue("customer", customer.Id);
                record.Parameters.AddWithValue("session", session.Id);
                record.Parameters.AddWithValue("url", session.Url ?? "");
                record.Parameters.AddWithValue("browser", browser.Hash);
                await record.ExecuteNonQueryAsync(ct);
            }

            // The portal account and the Odoo administrator start with one random password that nobody is ever shown:
            // the welcome mail's single-use link (WelcomeLink) sets the customer's own for both.
            await Users.CreateTenantUserAsync(conn, email, password, tenantId, tx, ct);
            await grains.SendAsync(OutboxCommand.SignedUp(new TenantSignedUp(
                tenantId, subdomain, company, email, country, plan.Id, customer.Id, session.Id,
                secrets.Protect(password, SetOdooPassword.Purpose), session.Url)), tx, ct);
            await tx.CommitAsync(ct);
            grains.Wake();
            logger.LogInformation("Tenant {TenantId} signed up for {Plan} as {Subdomain}; checkout {Session}", tenantId, plan.Id, subdomain, session.Id);
            return new SignupResult.Started(tenantId, session.Url ?? "", browser.Token);
        }
        catch (Exception ex) when (ex is StripeException or HttpRequestException or NpgsqlException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            // Stripe.net lets a connection failure out as HttpRequestException and a timeout as a cancellation, both after
            // its own retries.
            logger.LogWarning("Signup for {Subdomain} could not start the payment: {Error}", subdomain, ex.Message);
            await using var undo = db.CreateCommand(UndoClaimSql);
            undo.Parameters.AddWithValue("id", tenantId);
            await undo.ExecuteNonQueryAsync(CancellationToken.None);
            return new SignupResult.PaymentUnavailable("No se pudo iniciar el pago con Stripe. Inténtalo de nuevo en unos minutos.");
        }
    }

    private async Task<(Dictionary<string, string[]> Errors, (string Company, string Email, string Subdomain, Plan Plan, string Country)? Values)> ValidateAsync(SignupRequest r, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var company = r.CompanyName?.Trim() ?? "";
        if (company.Length is 0 or > 200)
        {
            errors["companyName"] = ["Indica el nombre de la empresa (hasta 200 caracteres)."];
        }

        var email = r.Email?.Trim().ToLowerInvariant() ?? "";
        if (!IsEmail(email))
        {
            errors["email"] = ["Indica un correo electrónico válido."];
        }

        var subdomain = r.Subdomain?.Trim().ToLowerInvariant() ?? "";
        if (!SubdomainShape().IsMatch(subdomain))
        {
            errors["subdomain"] = ["El subdominio debe tener de 3 a 30 caracteres: letras minúsculas, números y guiones, sin guion al principio ni al final."];
        }
        else if (Reserved.Contains(subdomain))
        {
            errors["subdomain"] = ["Ese subdominio está reservado. Elige otro."];
        }

        var country = r.Country?.Trim().ToUpperInvariant() ?? "";
        if (!CountryShape().IsMatch(country))
        {
            errors["country"] = ["Indica el país con su código de dos letras (por ejemplo, ES o MX)."];
        }

        var plans = await Plans.ActiveAsync(db, ct);
        var plan = plans.FirstOrDefault(p => p.Id == r.Plan?.Trim().ToLowerInvariant());
        if (plan is null)
        {
            errors["plan"] = [$"El plan no existe. Planes disponibles: {string.Join(", ", plans.Select(p => p.Id))}."];
        }

        if (!errors.ContainsKey("subdomain"))
        {
            await using var taken = db.CreateCommand(TakenSql);
            taken.Parameters.AddWithValue("subdomain", subdomain);
            if (await taken.ExecuteScalarAsync(ct) is not null)
            {
                errors["subdomain"] = ["Ese subdominio ya está en uso."];
            }
        }

        return errors.Count > 0 ? (errors, null) : (errors, (company, email, subdomain, plan!, country));
    }

    private async Task<bool> ClaimAsync(string tenantId, string subdomain, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var release = new NpgsqlCommand(ReleaseClaimSql, conn, tx))
        {
            release.Parameters.AddWithValue("subdomain", subdomain);
            await release.ExecuteNonQueryAsync(ct);
        }

        await using var claim = new NpgsqlCommand(ClaimSql, conn, tx);
        claim.Parameters.AddWithValue("id", tenantId);
        claim.Parameters.AddWithValue("subdomain", subdomain);
        var claimed = await claim.ExecuteNonQueryAsync(ct) == 1;
        await tx.CommitAsync(ct);
        return claimed;
    }

    private static bool IsEmail(string email) =>
        email.Length is > 3 and <= 254 && MailAddress.TryCreate(email, out var parsed) && parsed.Address == email && email.Contains('.', StringComparison.Ordinal);

    private static string GeneratePassword() =>
        RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$")]
    private static partial Regex SubdomainShape();

    [GeneratedRegex("^[A-Z]{2}$")]
    private static partial Regex CountryShape();
}
