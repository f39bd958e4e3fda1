using Orleans.Dashboard;
using Sajet.Cluster;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.WebFront.ApiDocs;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Health;
using Sajet.WebFront.Hosting;
using Sajet.WebFront.Live;
using Sajet.WebFront.Nodes;
using Sajet.WebFront.Onboarding;
using Sajet.WebFront.Pages;
using Sajet.WebFront.Security;
using Sajet.WebFront.Settings;
using Sajet.WebFront.Tenants;
using Sajet.Integrations.Stripe;

// Sajet web front: Razor Pages in Spanish and the JSON API. Configuration keeps the old system's names:
// DATABASE_URL, APP_PORT (4443), APP_URL, JWT_SECRET_KEY, ADMIN_USERNAME, ADMIN_PASSWORD.
var builder = WebApplication.CreateBuilder(args);

builder.AddSajetHosting();                                  // APP_PORT/APP_URL, forwarded headers, Spanish problem+json
builder.Services.AddSajetDatabase(builder.Configuration);   // one NpgsqlDataSource from DATABASE_URL
builder.Services.AddSajetAudit();                           // audit_log table + logs/security_audit.log
builder.Services.AddSajetSecurity();                        // headers, body limits, rate limits, antiforgery
builder.Services.AddSajetAuth();                            // JWT cookies, refresh sessions, TOTP, policies
builder.Services.AddSajetClusterClient(builder.Configuration, // Orleans client; connects in the background
    client => client.AddDashboard());
builder.Services.AddSajetOutbox();                           // commands to grains, delivered by the silos
builder.Services.AddSajetTenantActions();                    // operator actions, answered with their outcome
builder.Services.AddSajetStripe(builder.Configuration);     // STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET
builder.Services.AddSajetOnboarding();                      // signup → Stripe Checkout
builder.Services.AddSajetMailSettings(builder.Configuration); // SMTP defaults under the settings page's values
builder.Services.AddSajetLiveEvents();                      // LISTEN/NOTIFY → Server-Sent Events
builder.Services.AddNodes(builder.Configuration);            // node registry, metrics, capacity check
builder.Services.AddSajetHealth();
builder.Services.AddSajetPages();                           // Razor Pages, /Admin and /Tenant folders protected
builder.Services.AddSajetApiDocs();                         // OpenAPI document in Spanish, /docs themed

var app = builder.Build();
await app.ApplyMigrationsAsync();                           // a fresh database works on first start
await app.EnsureFirstAdminAsync();

app.UseSajetSecurityHeaders();
app.UseSajetErrorHandling();
app.UseSajetInputChecks();                                  // U+0000 in a query or form: 400, not a 500 from PostgreSQL
app.UseStaticFiles();
app.UseSajetApiDocs();
app.UseRouting();
app.UseRateLimiter();
app.UseSajetAuthorization();                                // authentication, area guard, authorization
app.UseAntiforgery();

app.MapHealthApi();
app.MapSajetApiDocs();                                      // /openapi/v1.json, /redoc → /docs
app.MapAuthApi();
app.MapUsersApi();                                          // admin: end a user's sessions
app.MapAuditApi();
app.MapPlansApi();
app.MapSignupApi();
app.MapStripeWebhook();
app.MapTenantsApi();
app.MapNodesApi();
app.MapLiveEvents();
app.MapSajetPages();
// The dashboard is a page of its own (admins only), not part of the API the document describes.
app.MapOrleansDashboard("/admin/orleans").RequireAuthorization(Roles.AdminPolicy).ExcludeFromDescription();

app.Run();

public partial class Program;
