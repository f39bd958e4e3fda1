extern alias simulators;

using System.Net;
using System.Net.Http.Json;
using System.Text;
using Sajet.Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Sajet.Integrations.Stripe;
using Sajet.Persistence;
using simulators::Sajet.Simulators.Proxmox;
using simulators::Sajet.Simulators.Stripe;

namespace Sajet.WebFront.Tests.Onboarding;

public sealed class ConcurrentOnboardingTests
{
    [Fact]
    public async Task FiftyTenants_SignUpAndPayConcurrently_AllActive_OneContainerOrDatabaseEach()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("fifty-a");
        await h.StartSiloAsync("fifty-b");
        await h.RegisterNodesAsync("pve1", "pve2", "pve3");

        // 30 dedicated (Pro) and 20 shared (Basic) tenants.
        var signed = await Task.WhenAll(Enumerable.Range(1, 50).Select(i => h.SignUpAsync($"fifty-{i:00}", i % 5 < 2 ? "basic" : "pro")));
        Parallel.ForEach(signed, s => h.Stripe.Control.PayCheckoutSession(s.SessionId));

        foreach (var s in signed)
        {
            await h.WaitForStatusAsync(s.TenantId, "active", 240);
        }

        // One dedicated container per Pro tenant, one database per tenant, and shared containers only as needed.
        var containers = h.Proxmox.Cluster.Containers.ToList();
        Assert.Equal(30, containers.Count(c => c.Config.TryGetValue("hostname", out var n) && n.StartsWith("t-fifty-", StringComparison.Ordinal)));
        Assert.Equal(30, containers.Where(c => c.Config.TryGetValue("hostname", out var n) && n.StartsWith("t-fifty-", StringComparison.Ordinal)).Select(c => c.Config["hostname"]).Distinct().Count());
        var shared = containers.Count(c => c.Config.TryGetValue("hostname", out var n) && n.StartsWith("s-", StringComparison.Ordinal));
        Assert.InRange(shared, 2, 3);
        var databases = h.Odoo.Control.Databases.Where(d => d.Name.StartsWith("fifty-", StringComparison.Ordinal)).ToList();
        Assert.Equal(50, databases.Count);
        Assert.Equal(50, databases.Select(d => d.Name).Distinct().Count());

        // Each history shows the Stripe event that confirmed the payment and the Proxmox task that built its home.
        foreach (var s in signed)
        {
            Assert.True(await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{s.TenantId}' AND correlation_id LIKE 'evt_%'") > 0);
            Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{s.TenantId}' AND to_state = 'paid' AND correlation_id IS NOT NULL"));
            Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{s.TenantId}' AND to_state = 'active'"));
            var plan = await h.Db.ScalarAsync<string>($"SELECT plan_id FROM tenants WHERE id = '{s.TenantId}'");
            // A Pro tenant's history names the task that created its container; a Basic one's only if it created the shared container.
            Assert.InRange(await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{s.TenantId}' AND correlation_id LIKE 'UPID:%:vzcreate:%'"), plan == "pro" ? 1 : 0, 1);
        }

        Assert.Equal(30 + shared, await h.Db.ScalarAsync<long>("SELECT count(DISTINCT correlation_id) FROM grain_events WHERE correlation_id LIKE 'UPID:%:vzcreate:%'"));
    }
}

public sealed class WebhookDeliveryTests
{
    [Fact]
    public async Task EachWebhookDeliveredThreeTimesConcurrently_OneTransition()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("dup");
        await h.RegisterNodesAsync("pve1");
        h.Stripe.Control.Switches = new StripeWebhookSwitches { Duplicates = 3 };

        var signed = await h.SignUpAndPayAsync("triple");
        await h.Stripe.Control.WaitForDeliveriesAsync(CancellationToken.None);

        var delivered = h.Stripe.Control.DeliveryAttempts.Count(a => a.StatusCode == 200);
        var distinct = h.Stripe.Control.DeliveryAttempts.Where(a => a.StatusCode == 200).Select(a => a.EventId).Distinct().Count();
        Assert.True(delivered >= distinct * 3, $"{delivered} deliveries of {distinct} events");
        Assert.Equal(distinct, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM stripe_events WHERE tenant_id = '{signed.TenantId}'"));
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'paid'"));
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'active'"));
    }

    [Fact]
    public async Task ShuffledEvents_EndInTheStateStripesObjectsSay()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("shuffle");
        await h.RegisterNodesAsync("pve1");
        h.Stripe.Control.Switches = new StripeWebhookSwitches { Shuffle = true, Duplicates = 2 };

        // Paid, then the subscription is deleted at Stripe: whatever order the events arrive in, the end is cancelled.
        var kept = await h.SignUpAsync("order-kept");
        var dropped = await h.SignUpAsync("order-dropped");
        h.Stripe.Control.PayCheckoutSession(kept.SessionId);
        h.Stripe.Control.PayCheckoutSession(dropped.SessionId);
        await h.WaitForStatusAsync(kept.TenantId, "active");
        await h.WaitForStatusAsync(dropped.TenantId, "active");

        var subscription = await h.Db.ScalarAsync<string>($"SELECT subscription_id FROM tenants WHERE id = '{dropped.TenantId}'");
        h.Stripe.Control.FailSubscriptionRenewal(subscription);
        await h.WaitForStatusAsync(dropped.TenantId, "past_due");
        h.Stripe.Control.RetrySubscriptionPayment(subscription);
        await h.WaitForStatusAsync(dropped.TenantId, "active");

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", h.Stripe.SecretKey);
        var cancel = await http.DeleteAsync($"{h.Stripe.BaseUrl}/v1/subscriptions/{subscription}");
        Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());
        await h.WaitForStatusAsync(dropped.TenantId, "cancelled");
        Assert.Equal("active", await h.StatusAsync(kept.TenantId));
    }

    [Fact]
    public async Task MissedCheckoutCompleted_ReconciliationStillActivates()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("missed");
        await h.RegisterNodesAsync("pve1");
        // Every webhook is lost (not only checkout.session.completed: any delivered event makes the grain re-read
        // Stripe at once, which would activate the tenant without the reconciliation this test is about).
        h.Stripe.Control.ClearWebhookEndpoints();

        var signed = await h.SignUpAndPayAsync("missed-hook");
        Assert.Equal(0, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM stripe_events WHERE tenant_id = '{signed.TenantId}'"));
        Assert.Contains("reminder:reconcile", await h.Db.ScalarAsync<string>($"SELECT actor FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'paid'"));
    }

    [Fact]
    public async Task TamperedOrStaleSignature_400_NothingStored_Audited()
    {
        await using var h = await OnboardingHarness.StartAsync();
        using var client = h.Web.Client();
        var body = """{"id":"evt_forged","object":"event","type":"checkout.session.completed","created":1700000000,"data":{"object":{"id":"cs_x"}}}""";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        async Task<HttpStatusCode> Post(string header)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Stripe-Signature", header);
            return (await client.SendAsync(request)).StatusCode;
        }

        var good = StripeWebhookSigner.GenerateHeader(body, now, h.Stripe.WebhookSecret);
        Assert.Equal(HttpStatusCode.BadRequest, await Post(good.Replace("v1=", "v1=0", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.BadRequest, await Post(StripeWebhookSigner.GenerateHeader(body, now - 3600, h.Stripe.WebhookSecret)));
        Assert.Equal(HttpStatusCode.BadRequest, await Post(StripeWebhookSigner.GenerateHeader(body, now, "whsec_wrong")));
        Assert.Equal(0, await h.Db.ScalarAsync<long>("SELECT count(*) FROM stripe_events"));
        Assert.Equal(3, await h.Db.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'stripe.bad_signature'"));

        Assert.Equal(HttpStatusCode.OK, await Post(good));
        Assert.Equal(HttpStatusCode.OK, await Post(good));
        Assert.Equal(1, await h.Db.ScalarAsync<long>("SELECT count(*) FROM stripe_events"));
    }
}

public sealed class SignupValidationTests
{
    [Theory]
    [InlineData("ab", "pro", "subdomain")]
    [InlineData("-bad-", "pro", "subdomain")]
    [InlineData("has_underscore", "pro", "subdomain")]
    [InlineData("www", "pro", "subdomain")]
    [InlineData("admin", "pro", "subdomain")]
    [InlineData("fine-name", "platinum", "plan")]
    public async Task InvalidInput_400PerField_NothingCreated(string subdomain, string plan, string field)
    {
        await using var h = await OnboardingHarness.StartAsync();
        using var client = h.Web.Client();
        var customersBefore = h.Stripe.Control.Events.Count;
        var response = await client.PostAsJsonAsync("/api/checkout", new { companyName = "Empresa", email = "a@b.example.com", subdomain, plan, country = "ES" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
        Assert.Matches("[áéíóúñ]|subdominio|plan", messages[0].GetString()!);
        Assert.Equal(0, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM tenants WHERE subdomain = '{subdomain}'"));
        Assert.Equal(customersBefore, h.Stripe.Control.Events.Count);
    }

    [Fact]
    public async Task TakenSubdomain_CaseInsensitive_400_NothingCreated()
    {
        await using var h = await OnboardingHarness.StartAsync();
        // The tenants row counted below is the grain's read model: a silo applies the signup before the second try.
        await h.StartSiloAsync("taken");
        await h.WaitForSignupAppliedAsync((await h.SignUpAsync("taken-name")).TenantId);
        using var client = h.Web.Client();
        var response = await client.PostAsJsonAsync("/api/checkout", new { companyName = "Otra", email = "b@c.example.com", subdomain = "Taken-Name", plan = "pro", country = "MX" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ya está en uso", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, await h.Db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE lower(subdomain) = 'taken-name'"));
    }
}

public sealed class ProvisioningFaultTests
{
    [Fact]
    public async Task CreateTimesOutAfterItRan_EndsWithOneContainer()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("timeout");
        await h.RegisterNodesAsync("pve1");
        h.Proxmox.Cluster.AddTimeoutAfterWork(new TimeoutAfterWorkFault("/nodes/*/lxc", AfterWorkFailure.Abort, "POST", Count: 1));

        var signed = await h.SignUpAndPayAsync("slow-create");

        var mine = h.Proxmox.Cluster.Containers.Where(c => c.Config.GetValueOrDefault("hostname") == "t-slow-create").ToList();
        Assert.Single(mine);
        Assert.Contains("ya existía", await h.Db.ScalarAsync<string>($"SELECT string_agg(reason, ' ') FROM grain_events WHERE grain_key = '{signed.TenantId}'"));
    }

    [Fact]
    public async Task ProxmoxFaults_TwentyOnboardings_ActiveOrFailedWithNothingLeftBehind()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("faulty", s => s["Tenants:StepMaxAttempts"] = "4");
        await h.RegisterNodesAsync("pve1", "pve2", "pve3");
        h.Proxmox.Cluster.AddErrorFault(new ErrorFault("/nodes/**", 0.2, 500, "simulated: got timeout"));
        h.Proxmox.Cluster.AddErrorFault(new ErrorFault("/cluster/**", 0.2, 500, "simulated: cluster not ready"));
        h.Proxmox.Cluster.AddTaskFault(new TaskFault(TaskFaultOutcome.Fail, "vzcreate", Message: "simulated: unable to create CT", Count: 6));
        h.Proxmox.Cluster.AddTaskFault(new TaskFault(TaskFaultOutcome.Fail, "vzstart", Message: "simulated: startup failed", Count: 4));

        var signed = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => h.SignUpAsync($"faulty-{i:00}")));
        foreach (var s in signed)
        {
            h.Stripe.Control.PayCheckoutSession(s.SessionId);
        }

        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            "SELECT count(*) FROM tenants WHERE status = 'active' OR (status = 'failed' AND compensated)") == 20,
            "every onboarding settled", 300);
        h.Proxmox.Cluster.ResetFaults();

        var containers = h.Proxmox.Cluster.Containers.ToList();
        foreach (var s in signed)
        {
            var status = await h.StatusAsync(s.TenantId);
            var subdomain = await h.Db.ScalarAsync<string>($"SELECT subdomain FROM tenants WHERE id = '{s.TenantId}'");
            var theirs = containers.Count(c => c.Config.GetValueOrDefault("hostname") == $"t-{subdomain}");
            if (status == "active")
            {
                Assert.Equal(1, theirs);
            }
            else
            {
                Assert.Equal("failed", status);
                Assert.Equal(0, theirs);
                Assert.Equal(0, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM reservations WHERE key = 'tenant:{s.TenantId}' AND released_at IS NULL"));
                Assert.DoesNotContain(h.Odoo.Control.Databases, d => d.Name == subdomain);
            }
        }

        // Reservations match what stands: one live reservation per active tenant, nothing for the failed ones.
        Assert.Equal(await h.Db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE status = 'active'"),
            await h.Db.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE released_at IS NULL"));
    }
}

public sealed class CapacityTests
{
    [Fact]
    public async Task NoCapacity_TenantWaits_NodeRegistered_BecomesActiveByItself()
    {
        await using var h = await OnboardingHarness.StartAsync();
        var silo = await h.StartSiloAsync("capacity");

        var signed = await h.SignUpAndPayAsync("waits-a-bit", status: "waiting_for_capacity");
        Assert.Contains("No hay nodos", await h.Db.ScalarAsync<string>($"SELECT reason FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'waiting_for_capacity'"));

        // The operator registers a node; its first poll brings it online and the waiting tenant is placed on it.
        using var admin = await h.AdminClientAsync();
        await h.RegisterNodeViaApiAsync(admin, "pve2");
        await h.WaitForStatusAsync(signed.TenantId, "active");
        Assert.Equal("pve2", await h.Db.ScalarAsync<string>($"SELECT node_id FROM tenants WHERE id = '{signed.TenantId}'"));
    }
}

public sealed class SiloCrashTests
{
    [Fact]
    public async Task SiloKilledMidProvisioning_TenantStillActive_Once()
    {
        // Tasks take a fraction of their real duration, so the kill lands while a Proxmox task is being waited on.
        await using var h = await OnboardingHarness.StartAsync(nodes: 1, taskScale: 0.5);
        var doomed = h.StartSiloProcess("doomed");
        await h.RegisterNodesAsync("pve1");
        var signed = await h.SignUpAsync("survivor");
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);

        // The doomed process is the only silo, so the tenant's grain runs there.
        await OnboardingHarness.WaitAsync(async () => await h.StatusAsync(signed.TenantId) == "provisioning", "the silo process is mid-provisioning", 120);
        doomed.Kill(entireProcessTree: true);
        await doomed.WaitForExitAsync();

        await h.StartSiloAsync("rescuer");
        await h.WaitForStatusAsync(signed.TenantId, "active");

        Assert.Single(h.Proxmox.Cluster.Containers, c => c.Config.GetValueOrDefault("hostname") == "t-survivor");
        Assert.Single(h.Odoo.Control.Databases, d => d.Name == "survivor");
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'active'"));
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'provisioning'"));
    }
}
