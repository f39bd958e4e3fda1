// The tenant grain: onboarding from signup to a working Odoo, then the billing lifecycle.
//
//  signup ─► pending ──(Stripe says: session complete and paid)──► paid ─► placing ──(a node fits)──► provisioning ──(login ok)──► active
//              │                                                              ▲  │                     │                             │ ▲
//              │ (checkout expired, or unpaid for 24 h:                       │  │ (no node fits)      │ (a step spent its budget,   │ │ (invoice paid)
//              │  subdomain released)                                         │  ▼                     │  or failed for good)        ▼ │
//              ▼                                           capacity appears,  waiting_for_capacity     ▼                          past_due
//          cancelled ◄── admin cancel (refund) ──────────  admin resolves  ◄──────┘          failed ──(compensated; admin retry)──► placing
//              ▲                                                                                         
//              └────────── subscription deleted (any state) ─────      active ──admin suspend──► suspended ──admin resume──► active
//
// Provisioning steps (State.Step), each an idempotent effect outside the lock followed by a transition under it:
//   dedicated and shared-container creator:  create_container ─► start_container ─► await_odoo ─► create_database ─► verify
//   shared-container joiner:                  await_shared ─► create_database ─► verify
// History: a transition has from and to; a note (a Stripe event received, a provisioning step done) has only from.
// Reminders: "step" drives provisioning; "billing-sync" reads Stripe's current objects (every webhook schedules it, so
// event order never matters; /success polls at most once per CheckoutRecheckInterval); "reconcile" re-reads a pending
// checkout at growing intervals so a missed webhook cannot strand a payer; "compensate" removes what a failed attempt
// left; "refund" refunds on admin cancel; "release-subdomain" frees an abandoned name; "waiting-check" retries
// placement while waiting; "odoo-password" gives the Odoo administrator the password the customer chose by a mail link
// (kept pending until the tenant is active, so it is applied after activation too).
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Mail;
using Sajet.Grains.Nodes;
using Sajet.Grains.Placement;
using Sajet.Grains.Provisioning;
using Sajet.Integrations.Proxmox;
using Sajet.Grains.Workflow;
using Sajet.Persistence.Secrets;

namespace Sajet.Grains.Tenants;

public sealed class TenantState : WorkflowState
{
    public string Status { get; set; } = TenantStatus.Pending;
    public string Subdomain { get; set; } = "";
    public string CompanyName { get; set; } = "";
    public string Email { get; set; } = "";
    public string Country { get; set; } = "";
    public string PlanId { get; set; } = "";
    public string? StripeCustomerId { get; set; }
    public string? CheckoutSessionId { get; set; }

    /// <summary>Where the customer pays; null in states stored before signups carried it.</summary>
    public string? CheckoutUrl { get; set; }
    public string? SubscriptionId { get; set; }
    public string? SubscriptionStatus { get; set; }
    public string? LastStripeEventId { get; set; }
    public string OdooPasswordProtected { get; set; } = "";

    /// <summary>A password the customer chose for the Odoo administrator, not yet set in Odoo (protected like <see cref="OdooPasswordProtected"/>).</summary>
    public string? PendingOdooPasswordProtected { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public int ReconcileRound { get; set; }
    public DateTimeOffset? CheckoutCheckedAt { get; set; }

    /// <summary>"dedicated" or "shared".</summary>
    public string? Kind { get; set; }
    public bool SharedCreator { get; set; }
    public string? NodeId { get; set; }
    public string? Hostname { get; set; }
    public int? Vmid { get; set; }
    public string? PveNode { get; set; }
    public string? Step { get; set; }
    public string? ReservationKey { get; set; }
    public string? Url { get; set; }
    public DateTimeOffset? WaitingSince { get; set; }
    public string? FailReason { get; set; }

    /// <summary>An abandoned signup gave its subdomain back (projected to tenants.subdomain_released).</summary>
    public bool SubdomainReleased { get; set; }

    /// <summary>True once whatever a failed attempt made has been removed; admin retry waits for it.</summary>
    public bool Compensated { get; set; } = true;
}

/// <summary>What Stripe's current objects say about a tenant's payment.</summary>
public sealed record BillingFacts(string? SessionStatus, string? PaymentStatus, string? SubscriptionId, string? SubscriptionStatus);

// The grain type is stored in Orleans' tables (state, reminders): named here, never derived from the class name.
[GrainType(GrainTypes.Tenant)]
public sealed class TenantGrain(
    [PersistentState(GrainTypes.Tenant)] IPersistentState<TenantState> store,
    Provisioner provisioner,
    StripeBillingActivities billing,
    OdooActivities odoo,
    SecretProtector secrets,
    IOptions<TenantOptions> options,
    IServiceProvider services) : WorkflowGrain<TenantState>(store, services), ITenantGrain
{
    public const string OdooPasswordPurpose = SetOdooPassword.Purpose;

    private const string StepReminder = "step";
    private const string BillingReminder = "billing-sync";
    private const string ReconcileReminder = "reconcile";
    private const string CompensateReminder = "compensate";
    private const string RefundReminder = "refund";
    private const string ReleaseReminder = "release-subdomain";
    private const string WaitingReminder = "waiting-check";
    private const string OdooPasswordReminder = "odoo-password";

    // The whole row from state, so the first projection (the signup applied) creates it and any later one, or a repeat
    // after a crash, sets the same absolute values. The grain is the only writer of tenants (sql/0008_signups.sql).
    private const string SyncIndexSql = """
        INSERT INTO tenants (id, subdomain, subdomain_released, company_name, email, country, plan_id, status,
            stripe_customer_id, checkout_session_id, checkout_url, subscription_id, url, node_id, vmid, waiting_since,
            step, fail_reason, odoo_password_protected, compensated, created_at, updated_at)
        VALUES (@id, @subdomain, @released, @company, @email, @country, @plan, @status,
            @customer, @session, @checkout_url, @subscription, @url, @node, @vmid, @waiting,
            @step, @fail_reason, @password, @compensated, @created, now())
        ON CONFLICT (id) DO UPDATE SET subdomain = EXCLUDED.subdomain, subdomain_released = EXCLUDED.subdomain_released,
            company_name = EXCLUDED.company_name, email = EXCLUDED.email, country = EXCLUDED.country, plan_id = EXCLUDED.plan_id,
            status = EXCLUDED.status, stripe_customer_id = EXCLUDED.stripe_customer_id,
            checkout_session_id = EXCLUDED.checkout_session_id,
            -- States stored before the signup message carried the URL do not know it; the row still does.
            checkout_url = coalesce(EXCLUDED.checkout_url, tenants.checkout_url),
            subscription_id = EXCLUDED.subscription_id, url = EXCLUDED.url, node_id = EXCLUDED.node_id, vmid = EXCLUDED.vmid,
            waiting_since = EXCLUDED.waiting_since, step = EXCLUDED.step, fail_reason = EXCLUDED.fail_reason,
            odoo_password_protected = EXCLUDED.odoo_password_protected, compensated = EXCLUDED.compensated, updated_at = now()
        """;

    private const string PlanSql = "SELECT cores, memory_mb, disk_gb, shared FROM plans WHERE id = @id";

    private TenantOptions Options => options.Value;

    protected override string GrainType => GrainTypes.Tenant;

    // A Stripe event can arrive before the signup message: until signed up the grain has no state name to show.
    protected override string? Status => State.Subdomain.Length == 0 ? null : State.Status;

    // ───────────────────────────── messages (under the lock) ─────────────────────────────

    public Task SignedUpAsync(Guid commandId, TenantSignedUp command) =>
        CommandAsync(commandId, "signup", () => { SignedUp(command); return Task.CompletedTask; }, command.CheckoutSessionId);

    public Task StripeEventAsync(Guid commandId, StripeEventReceived command) => CommandAsync(commandId, "stripe", () =>
    {
        State.LastStripeEventId = command.EventId;
        Context.Record(State.Status, null, $"Evento de Stripe recibido: {command.Type}", command.EventId);
        Context.Schedule(BillingReminder, TimeSpan.Zero, 20);
        return Task.CompletedTask;
    }, command.EventId);

    public Task CheckoutReturnedAsync(Guid commandId, CheckoutReturned command) => CommandAsync(commandId, "checkout", () =>
    {
        // Each open /success page sends this every few seconds: Stripe is asked once per interval at most.
        if (command.SessionId == State.CheckoutSessionId
            && (State.CheckoutCheckedAt is not { } last || Context.Now - last >= Options.CheckoutRecheckInterval))
        {
            State.CheckoutCheckedAt = Context.Now;
            Context.Schedule(BillingReminder, TimeSpan.Zero, 20);
        }

        return Task.CompletedTask;
    });

    public Task<TenantActionResult> ResolveAsync(Guid commandId, ResolveTenant command) =>
        CommandAsync(commandId, command.Actor, () => ResolveAsync(command), Repeated);

    public Task<TenantActionResult> SuspendAsync(Guid commandId, SuspendTenant command) => CommandAsync(commandId, command.Actor, async () =>
    {
        if (Refuse(TenantActions.Suspend) is { } refused)
        {
            return refused;
        }

        await MoveAsync(TenantStatus.Suspended, $"Suspendido por {command.Actor}");
        return TenantActionResult.Done("Cliente suspendido.", State.Status);
    }, Repeated);

    public Task<TenantActionResult> ResumeAsync(Guid commandId, ResumeTenant command) => CommandAsync(commandId, command.Actor, async () =>
    {
        if (Refuse(TenantActions.Resume) is { } refused)
        {
            return refused;
        }

        await MoveAsync(TenantStatus.Active, $"Reactivado por {command.Actor}");
        return TenantActionResult.Done("Cliente reactivado.", State.Status);
    }, Repeated);

    public Task SetOdooPasswordAsync(Guid commandId, SetOdooPassword command) => CommandAsync(commandId, command.Actor, () =>
    {
        if (State.Subdomain.Length == 0 || State.Status is TenantStatus.Cancelled or TenantStatus.Deleted)
        {
            return Task.CompletedTask; // No Odoo of theirs to sign in to: the portal password alone changed.
        }

        State.PendingOdooPasswordProtected = command.PasswordProtected;
        Context.Record(State.Status, null, $"{command.Actor} eligió una contraseña nueva; se aplicará al administrador de Odoo" +
            (State.Status is TenantStatus.Active or TenantStatus.PastDue ? "" : " cuando el Odoo esté en marcha"));
        ScheduleOdooPassword();
        return Task.CompletedTask;
    });

    private void ScheduleOdooPassword()
    {
        if (State.PendingOdooPasswordProtected is not null && State.Status is TenantStatus.Active or TenantStatus.PastDue)
        {
            Context.Schedule(OdooPasswordReminder, TimeSpan.Zero, 20);
        }
    }

    /// <summary>An action the state no longer allows (it moved after the console judged it): noted in the history and answered.</summary>
    private TenantActionResult? Refuse(string action)
    {
        if (State.Subdomain.Length == 0)
        {
            // No signup applied yet (or a row the engine never made): nothing here to act on, and nothing to record.
            return TenantActionResult.Refused("Este cliente aún no está dado de alta en el motor; vuelve a intentarlo en unos segundos.", State.Status);
        }

        if (TenantActions.RefusalOf(action, State.Status, State.Compensated) is not { } reason)
        {
            return null;
        }

        Context.Record(State.Status, null, $"Acción rechazada ({action}): {reason}");
        return TenantActionResult.Refused(reason, State.Status);
    }

    // A repeated command id (the outbox delivering what a direct call already applied): nothing to do again.
    private TenantActionResult Repeated() => TenantActionResult.Done("La acción ya estaba aplicada.", State.Status);

    public Task<string?> GetStatusAsync() => Task.FromResult(Status);

    public Task<IReadOnlyList<string>> GetScheduledAsync() => Task.FromResult<IReadOnlyList<string>>([.. State.Timers.Keys]);

    private void SignedUp(TenantSignedUp m)
    {
        if (State.Subdomain.Length > 0)
        {
            return; // Delivered twice: the first delivery already set everything up.
        }

        State.Subdomain = m.Subdomain;
        State.CompanyName = m.CompanyName;
        State.Email = m.Email;
        State.Country = m.Country;
        State.PlanId = m.PlanId;
        State.StripeCustomerId = m.StripeCustomerId;
        State.CheckoutSessionId = m.CheckoutSessionId;
        State.CheckoutUrl = m.CheckoutUrl;
        State.OdooPasswordProtected = m.OdooPasswordProtected;
        State.CreatedAt = Context.Now;
        State.Status = TenantStatus.Pending;
        Context.Record(null, TenantStatus.Pending, $"Alta de {m.CompanyName} ({m.Subdomain}, plan {m.PlanId}); esperando el pago", m.CheckoutSessionId);
        Context.Schedule(ReconcileReminder, Options.ReconcileFirstInterval, 50);
        Context.Schedule(ReleaseReminder, Options.AbandonAfter, 20);
    }

    private async Task<TenantActionResult> ResolveAsync(ResolveTenant m)
    {
        if (m.Action == ResolveActions.PlaceOnNode && m.NodeId is null)
        {
            return TenantActionResult.Refused("Indica en qué nodo colocarlo.", State.Status);
        }

        if (Refuse(m.Action) is { } refused)
        {
            return refused;
        }

        switch (m.Action)
        {
            case ResolveActions.Retry or ResolveActions.PlaceOnNode:
            {
                // A retry is a placement on any node; the node is null unless the operator pinned one (checked above).
                var node = m.Action == ResolveActions.PlaceOnNode ? m.NodeId : null;
                Context.Record(State.Status, null, node is null ? $"{m.Actor} pidió reintentar" : $"{m.Actor} pidió colocar en {node}");
                return Placement(await PlaceAsync(node));
            }
            case ResolveActions.KeepWaiting:
                Context.Record(State.Status, null, $"{m.Actor} decidió seguir esperando capacidad");
                return TenantActionResult.Done("El cliente sigue en la cola; se colocará solo en cuanto haya sitio.", State.Status);
            default:
                await CancelAsync($"Cancelado por {m.Actor}; se reembolsa el pago", refund: true);
                return TenantActionResult.Done("Cliente cancelado; se reembolsa el pago.", State.Status);
        }
    }

    /// <summary>A placement the operator asked for: placed (provisioning goes on by itself) or back in the queue, and why.</summary>
    private TenantActionResult Placement(string summary) => State.Status == TenantStatus.WaitingForCapacity
        ? TenantActionResult.Refused($"No se pudo colocar: {summary} El cliente sigue en la cola.", State.Status)
        : TenantActionResult.Done($"Colocado en {State.NodeId}; se está aprovisionando.", State.Status);

    // ───────────────────────────── placement (under the lock) ─────────────────────────────

    /// <summary>Called by the capacity grain (first-come first-served).</summary>
    public Task<bool> RetryPlacementIfWaitingAsync(string reason) => State.Status != TenantStatus.WaitingForCapacity
        ? Task.FromResult(false)
        : TurnAsync("capacity", reason, RetryPlacementIfWaitingAsync);

    private async Task<bool> RetryPlacementIfWaitingAsync()
    {
        if (State.Status != TenantStatus.WaitingForCapacity)
        {
            return false;
        }

        await PlaceAsync(null);
        return State.Status != TenantStatus.WaitingForCapacity;
    }

    /// <summary>Places the tenant (or puts it in the queue); returns the placement's summary, as the history records it.</summary>
    private async Task<string> PlaceAsync(string? pinnedNode)
    {
        if (State.Status != TenantStatus.Placing)
        {
            await MoveAsync(TenantStatus.Placing, pinnedNode is null ? "Buscando un nodo" : $"Buscando sitio en {pinnedNode}");
        }

        // No connection is held from here to the end of the placement: the grains asked below write through their own.
        var plan = await ReadPlanOutsideAsync(CancellationToken.None);
        ResetPlacement();
        if (plan.Shared)
        {
            var hostname = SharedHostname();
            var size = await ReadSharedSizeOutsideAsync(CancellationToken.None);
            var shared = await GrainFactory.GetGrain<ISharedPlacementGrain>(0).PlaceAsync(new SharedPlacementRequest(Context.Key, hostname,
                new PlacementRequest($"shared:{hostname}", size.Cores, size.MemoryMb, size.DiskGb, pinnedNode), size.Slots));
            if (shared.Placed)
            {
                SharedSlotTaken(new SharedMembership(shared.Hostname!, shared.NodeId!, shared.Vmid, shared.Status ?? "creating", shared.Creator), shared.Reason,
                    shared.Outcome is { } placed ? Why(placed) : null);
            }
            else
            {
                WaitForCapacity(shared.Reason, shared.Outcome!);
            }

            return shared.Reason;
        }

        var key = $"tenant:{Context.Key}";
        var decision = await GrainFactory.GetGrain<IPlacementGrain>(0).PlaceAsync(new PlacementRequest(key, plan.Cores, plan.MemoryMb, plan.DiskGb, pinnedNode));
        if (!decision.Placed)
        {
            WaitForCapacity(decision.Summary, decision);
            return decision.Summary;
        }

        State.NodeId = decision.NodeId;
        State.Hostname = $"t-{State.Subdomain}";
        State.ReservationKey = key;
        State.Kind = "dedicated";
        State.WaitingSince = null;
        Context.Unschedule(WaitingReminder);
        State.Compensated = false;
        State.Status = TenantStatus.Provisioning;
        State.Step = "create_container";
        Context.Record(TenantStatus.Placing, TenantStatus.Provisioning, decision.Summary, data: Why(decision));
        ScheduleStep(TimeSpan.Zero);
        Context.Project();
        return decision.Summary;
    }

    private static object Why(PlacementOutcome decision) =>
        decision.Nodes.Select(n => new { node = n.NodeId, eligible = n.Eligible, reason = n.Reason, score = n.Score });

    private void WaitForCapacity(string summary, PlacementOutcome decision)
    {
        State.WaitingSince ??= Context.Now;
        State.Status = TenantStatus.WaitingForCapacity;
        Context.Record(TenantStatus.Placing, TenantStatus.WaitingForCapacity, summary, data: Why(decision));
        Context.Schedule(WaitingReminder, Options.WaitingRecheck, 1000);
        Context.Project();
    }

    /// <summary>
    /// The name of the shared container this turn would open: derived from the tenant and its state version, so a turn
    /// cut off after its reservation and run again asks for the same reservation key instead of leaving one behind.
    /// </summary>
    private string SharedHostname()
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{Context.Key}/{State.Version}"));
        return $"s-{Convert.ToHexStringLower(hash)[..10]}";
    }

    /// <summary>The tenant holds a slot (just taken, or found again on a re-run): provisioning goes on from there.</summary>
    private void SharedSlotTaken(SharedMembership slot, string reason, object? why = null)
    {
        State.Hostname = slot.Hostname;
        State.NodeId = slot.NodeId;
        State.Vmid = slot.Vmid;
        State.Kind = "shared";
        State.SharedCreator = slot.Creator;
        State.WaitingSince = null;
        State.Compensated = false;
        State.Status = TenantStatus.Provisioning;
        var running = slot.Status == "running";
        if (slot.Creator)
        {
            // The creator's reservation was taken with its slot; create_container adopts a container an earlier run made.
            State.ReservationKey = $"shared:{slot.Hostname}";
            State.Step = "create_container";
        }
        else
        {
            State.Step = running ? "create_database" : "await_shared";
        }

        Context.Unschedule(WaitingReminder);
        Context.Record(TenantStatus.Placing, TenantStatus.Provisioning,
            running || slot.Creator ? reason : $"{reason} Se espera a que esté listo.", data: why);
        ScheduleStep(TimeSpan.Zero);
        Context.Project();
    }

    private void ResetPlacement()
    {
        State.NodeId = null;
        State.Hostname = null;
        State.Vmid = null;
        State.PveNode = null;
        State.Kind = null;
        State.SharedCreator = false;
        State.ReservationKey = null;
        State.Step = null;
        State.FailReason = null;
    }

    private async Task<(int Cores, int MemoryMb, int DiskGb, bool Shared)> ReadPlanAsync(NpgsqlConnection conn, NpgsqlTransaction? tx)
    {
        await using var cmd = new NpgsqlCommand(PlanSql, conn, tx);
        cmd.Parameters.AddWithValue("id", State.PlanId);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync())
        {
            throw new InvalidOperationException($"Plan {State.PlanId} does not exist");
        }

        return (r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetBoolean(3));
    }

    // ───────────────────────────── reminders (outside the lock) ─────────────────────────────

    protected override async Task<TimerResult> OnTimerAsync(TimerFiring firing, CancellationToken ct) => firing.Name switch
    {
        StepReminder => await StepAsync(firing, ct),
        BillingReminder => await BillingAsync(reconcile: false, ct),
        ReconcileReminder => await BillingAsync(reconcile: true, ct),
        CompensateReminder => await CompensateAsync(ct),
        RefundReminder => await RefundAsync(ct),
        ReleaseReminder => TimerResult.Done(AbandonIfUnpaidAsync),
        WaitingReminder => TimerResult.Done(() => RetryPlacementIfWaitingAsync()),
        OdooPasswordReminder => await OdooPasswordAsync(ct),
        _ => TimerResult.Done(),
    };

    private async Task<TimerResult> StepAsync(TimerFiring firing, CancellationToken ct)
    {
        if (State.Status is TenantStatus.Paid or TenantStatus.Placing)
        {
            return TimerResult.Done(() => PlaceIfStillPaidAsync());
        }

        if (State.Status != TenantStatus.Provisioning || State.Step is null || State.NodeId is null || State.Hostname is null)
        {
            return TimerResult.Done();
        }

        var step = State.Step;
        var node = State.NodeId;
        var hostname = State.Hostname;
        try
        {
            switch (step)
            {
                case "create_container":
                    // The container gets what placement reserved for it: an operator who changes a plan's or the shared
                    // container's size between placing and creating must not make the node hold more than it promised.
                    var (cores, memoryMb, diskGb) = await ReservedSizeOutsideAsync(ct) ?? await CurrentSizeOutsideAsync(ct);
                    var spec = new ContainerSpec(hostname, cores, memoryMb, diskGb, [Provisioner.SajetTag, State.Kind == "shared" ? "shared" : "tenant"]);

                    var created = await provisioner.EnsureContainerAsync(node, spec, ct);
                    return TimerResult.Done(() => ContainerCreatedAsync(step, created));
                case "start_container":
                    var startUpid = await provisioner.EnsureStartedAsync(node, hostname, ct);
                    return TimerResult.Done(() => StepPassed(step, "start_container", "await_odoo",
                        startUpid is null ? "El contenedor ya estaba en marcha" : "Contenedor arrancado", startUpid));
                case "await_odoo":
                    var version = await odoo.ServerVersionAsync(OdooAt(hostname), ct);
                    return TimerResult.Done(() => OdooReadyAsync(step, version));
                case "await_shared":
                    return await AwaitSharedAsync(step, hostname, ct);
                case "create_database":
                    return await CreateDatabaseAsync(step, hostname, ct);
                case "verify":
                    return await VerifyAsync(step, hostname, ct);
                default:
                    return TimerResult.GiveUp($"unknown provisioning step '{step}'");
            }
        }
        catch (Exception ex) when (IsPermanent(ex))
        {
            return TimerResult.GiveUp($"{step}: {ex.Message}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LogWarning("Tenant {TenantId} step {Step} failed (attempt {Attempt}): {Error}", Context.Key, step, firing.Attempt, ex.Message);
            return TimerResult.Retry($"{step}: {ex.Message}", Options.StepRetryDelay * firing.Attempt);
        }
    }

    /// <summary>Errors a retry cannot fix: the request itself is wrong (bad parameters, missing template).</summary>
    private static bool IsPermanent(Exception ex) => ex is ProxmoxParameterException or ProxmoxAuthenticationException or ProxmoxPermissionException;

    private async Task<TimerResult> AwaitSharedAsync(string step, string hostname, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT status, vmid FROM shared_containers WHERE hostname = @h";
        cmd.Parameters.AddWithValue("h", hostname);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var status = await r.ReadAsync(ct) ? r.GetString(0) : "deleted";
        var vmid = status == "deleted" || r.IsDBNull(1) ? (int?)null : r.GetInt32(1);
        return status switch
        {
            "running" => TimerResult.Done(() => StepPassed(step, "await_shared", "create_database", $"Contenedor compartido {hostname} listo", null, vmid)),
            "creating" => TimerResult.Snooze(TimeSpan.FromSeconds(2)),
            _ => TimerResult.Done(() => SharedContainerLostAsync(step)),
        };
    }

    private async Task<TimerResult> CreateDatabaseAsync(string step, string hostname, CancellationToken ct)
    {
        var db = State.Subdomain;
        var outcome = await odoo.EnsureDatabaseAsync(OdooAt(hostname),
            new OdooDatabase(db, State.Email, OdooPassword(), Options.OdooLanguage, State.Country), ct);
        return outcome switch
        {
            OdooDatabaseOutcome.AlreadyWorking => TimerResult.Done(() => StepPassed(step, "create_database", "verify", $"La base de datos {db} ya existía y responde", null)),
            OdooDatabaseOutcome.Created => TimerResult.Done(() => StepPassed(step, "create_database", "verify", $"Base de datos {db} creada y comprobada con un inicio de sesión", null)),
            OdooDatabaseOutcome.ExistedBrokenDropped => TimerResult.Retry($"create_database: {db} existed but refused the login; dropped it to create it again", TimeSpan.FromSeconds(1)),
            OdooDatabaseOutcome.CreatedBrokenDropped => TimerResult.Retry($"create_database: Odoo created {db} but the login failed (initialisation error); dropped it", TimeSpan.FromSeconds(1)),
            _ => TimerResult.GiveUp($"create_database: unknown outcome {outcome}"),
        };
    }

    private async Task<TimerResult> VerifyAsync(string step, string hostname, CancellationToken ct) =>
        await odoo.VerifyLoginAsync(OdooAt(hostname), State.Subdomain, State.Email, OdooPassword(), ct)
            ? TimerResult.Done(() => ActivateAsync(step))
            : TimerResult.Retry("verify: the tenant's Odoo refused the login");

    private async Task<TimerResult> OdooPasswordAsync(CancellationToken ct)
    {
        // Not active (yet, or any more): activation and resumption schedule this again while the password is pending.
        if (State.PendingOdooPasswordProtected is not { } pending || State.Status is not (TenantStatus.Active or TenantStatus.PastDue)
            || State.Hostname is not { } hostname)
        {
            return TimerResult.Done();
        }

        if (secrets.Unprotect(pending, OdooPasswordPurpose) is not { } password)
        {
            return TimerResult.GiveUp("la contraseña pedida no se puede descifrar (¿cambió SAJET_SECRET_KEY?)");
        }

        var outcome = await odoo.SetAdminPasswordAsync(OdooAt(hostname), State.Subdomain, State.Email, OdooPassword(), password, ct);
        return outcome == OdooPasswordOutcome.Refused
            ? TimerResult.GiveUp("Odoo no acepta la contraseña guardada del administrador; se cambió desde el propio Odoo")
            : TimerResult.Done(() => OdooPasswordSet(pending, outcome));
    }

    private void OdooPasswordSet(string applied, OdooPasswordOutcome outcome)
    {
        State.OdooPasswordProtected = applied;
        // A newer request that came in meanwhile stays pending and is applied next.
        if (State.PendingOdooPasswordProtected == applied)
        {
            State.PendingOdooPasswordProtected = null;
        }
        else
        {
            ScheduleOdooPassword();
        }

        Context.Record(State.Status, null, outcome == OdooPasswordOutcome.AlreadySet
            ? "La contraseña nueva del administrador de Odoo ya estaba aplicada"
            : "Contraseña del administrador de Odoo cambiada y comprobada con un inicio de sesión");
        Context.Project();
    }

    private OdooInstance OdooAt(string hostname) => new(hostname, State.Vmid, State.PveNode);

    private async Task<TimerResult> CompensateAsync(CancellationToken ct)
    {
        if (State.Compensated)
        {
            return TimerResult.Done();
        }

        string? upid = null;
        if (State.NodeId is { } node && State.Hostname is { } hostname)
        {
            if (State.Kind == "dedicated" || State.SharedCreator)
            {
                upid = await provisioner.DestroyAsync(node, hostname, ct);
            }
            else
            {
                // Unreachable counts as done: the shared container itself is gone or down, and its databases with it.
                await odoo.DropDatabaseAsync(OdooAt(hostname), State.Subdomain, ct);
            }
        }

        return TimerResult.Done(() => CompensatedAsync(upid));
    }

    private async Task<TimerResult> RefundAsync(CancellationToken ct)
    {
        string? refunded = null;
        if (State.StripeCustomerId is { } customer)
        {
            refunded = await billing.RefundLastPaymentAsync(customer, $"refund-{Context.Key}", ct);
        }

        if (State.SubscriptionId is { } sub)
        {
            await billing.CancelSubscriptionAsync(sub, ct);
        }
        else if (State.CheckoutSessionId is { } session)
        {
            await billing.ExpireCheckoutAsync(session, ct);
        }

        return TimerResult.Done(() => Context.Record(State.Status, null,
            refunded is null ? "Suscripción cancelada en Stripe (no había pago que reembolsar)" : $"Reembolso {refunded} emitido y suscripción cancelada", refunded));
    }

    private async Task<TimerResult> BillingAsync(bool reconcile, CancellationToken ct)
    {
        if (State.CheckoutSessionId is not { } sessionId)
        {
            return TimerResult.Done();
        }

        var facts = await billing.ReadBillingFactsAsync(sessionId, State.SubscriptionId, ct);
        if (!reconcile)
        {
            return TimerResult.Done(() => ApplyBillingAsync(facts));
        }

        // Reconciliation keeps looking while the tenant is unpaid, at growing intervals (1, 2, 4 … 60 min).
        var round = State.ReconcileRound + 1;
        var next = TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks, Options.ReconcileFirstInterval.Ticks << Math.Min(round, 20)));
        return State.Status == TenantStatus.Pending && facts.SessionStatus == "open"
            ? TimerResult.Reschedule(next, async () => { State.ReconcileRound = round; await ApplyBillingAsync(facts); })
            : TimerResult.Done(() => ApplyBillingAsync(facts));
    }

    // ───────────────────────────── transitions (under the lock) ─────────────────────────────

    public async Task ApplyBillingAsync(BillingFacts facts)
    {
        // The Stripe event that prompted this read, or the session itself when reconciliation found the payment first.
        var correlation = State.LastStripeEventId ?? State.CheckoutSessionId;
        State.SubscriptionId = facts.SubscriptionId ?? State.SubscriptionId;
        State.SubscriptionStatus = facts.SubscriptionStatus ?? State.SubscriptionStatus;
        var paid = facts.SessionStatus == "complete" && facts.PaymentStatus is "paid" or "no_payment_required";

        if (facts.SubscriptionStatus is "canceled" or "incomplete_expired" && State.Status is not (TenantStatus.Cancelled or TenantStatus.Deleted))
        {
            await CancelAsync("La suscripción terminó en Stripe", refund: false, correlation);
            return;
        }

        switch (State.Status)
        {
            case TenantStatus.Pending when paid:
                await MoveAsync(TenantStatus.Paid, "Pago confirmado por Stripe", correlation);
                Context.Unschedule(ReconcileReminder);
                Context.Unschedule(ReleaseReminder);
                ScheduleStep(TimeSpan.Zero);
                break;
            case TenantStatus.Pending when facts.SessionStatus == "expired":
                await CancelAsync("El enlace de pago expiró sin pago", refund: false, correlation);
                break;
            case TenantStatus.Active when facts.SubscriptionStatus is "past_due" or "unpaid":
                await MoveAsync(TenantStatus.PastDue, "Pago de la suscripción fallido", correlation);
                break;
            case TenantStatus.PastDue when facts.SubscriptionStatus is "active" or "trialing":
                await MoveAsync(TenantStatus.Active, "Pago de la suscripción recibido", correlation);
                break;
            default:
                Context.Project();
                break;
        }
    }

    public async Task PlaceIfStillPaidAsync()
    {
        if (State.Status is TenantStatus.Paid or TenantStatus.Placing)
        {
            await PlaceAsync(null);
        }
    }

    public async Task ContainerCreatedAsync(string step, ContainerResult created)
    {
        if (State.Step != step)
        {
            return;
        }

        State.Vmid = created.Vmid;
        State.PveNode = created.PveNode;
        Context.Record(TenantStatus.Provisioning, null,
            created.Adopted ? $"Contenedor {State.Hostname} ya existía (VMID {created.Vmid}); se reutiliza" : $"Contenedor {State.Hostname} creado (VMID {created.Vmid})",
            created.Upid, new { step, vmid = created.Vmid, node = created.PveNode });
        await InsertContainerRowAsync(created);
        State.Step = "start_container";
        ScheduleStep(TimeSpan.Zero);
    }

    private async Task InsertContainerRowAsync(ContainerResult created)
    {
        var (conn, tx) = await Context.DbAsync();
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO containers (vmid, node_id, hostname, kind, tenant_id, status, slots_total, reservation_key)
            VALUES (@vmid, @node, @hostname, @kind, @tenant, 'stopped',
                    -- A shared container's slots are shared_containers' (what placement counts), copied, not decided again.
                    CASE WHEN @kind = 'shared' THEN coalesce((SELECT slots_total FROM shared_containers WHERE hostname = @hostname), 1) ELSE 1 END,
                    @reservation)
            ON CONFLICT (vmid) DO UPDATE SET node_id = EXCLUDED.node_id, hostname = EXCLUDED.hostname, status = 'stopped';
            UPDATE shared_containers SET vmid = @vmid WHERE hostname = @hostname;
            """, conn, tx);
        cmd.Parameters.AddWithValue("vmid", created.Vmid);
        cmd.Parameters.AddWithValue("node", State.NodeId!);
        cmd.Parameters.AddWithValue("hostname", State.Hostname!);
        cmd.Parameters.AddWithValue("kind", State.Kind!);
        cmd.Parameters.AddWithValue("tenant", State.Kind == "shared" ? DBNull.Value : Context.Key);
        cmd.Parameters.AddWithValue("reservation", (object?)State.ReservationKey ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync();
    }

    public void StepPassed(string step, string expected, string next, string reason, string? upid, int? vmid = null)
    {
        if (State.Step != step || step != expected)
        {
            return;
        }

        if (vmid is not null)
        {
            State.Vmid = vmid;
        }

        Context.Record(TenantStatus.Provisioning, null, reason, upid, new { step });
        State.Step = next;
        ScheduleStep(TimeSpan.Zero);
    }

    public async Task OdooReadyAsync(string step, string version)
    {
        if (State.Step != step)
        {
            return;
        }

        var (conn, tx) = await Context.DbAsync();
        if (State.Kind == "shared")
        {
            // The creator opens the shared container to the tenants waiting on it.
            await using var cmd = new NpgsqlCommand("UPDATE shared_containers SET status = 'running', vmid = @vmid WHERE hostname = @h", conn, tx);
            cmd.Parameters.AddWithValue("h", State.Hostname!);
            cmd.Parameters.AddWithValue("vmid", (object?)State.Vmid ?? DBNull.Value);
            await cmd.ExecuteNonQueryAsync();
        }

        await using (var cmd = new NpgsqlCommand("UPDATE containers SET status = 'running' WHERE hostname = @h", conn, tx))
        {
            cmd.Parameters.AddWithValue("h", State.Hostname!);
            await cmd.ExecuteNonQueryAsync();
        }

        StepPassed(step, "await_odoo", "create_database", $"Odoo {version} responde en {State.Hostname}", null);
    }

    public async Task SharedContainerLostAsync(string step)
    {
        if (State.Step != step)
        {
            return;
        }

        Context.Record(TenantStatus.Provisioning, TenantStatus.Placing, $"El contenedor compartido {State.Hostname} no llegó a estar listo; se busca otro");
        State.Compensated = true;
        await PlaceAsync(null);
    }

    public async Task ActivateAsync(string step)
    {
        if (State.Step != step || State.Status != TenantStatus.Provisioning)
        {
            return;
        }

        State.Step = null;
        State.Url = $"https://{State.Subdomain}.{Options.Domain}";
        await MoveAsync(TenantStatus.Active, $"Odoo listo en {State.Url}");
    }

    public async Task AbandonIfUnpaidAsync()
    {
        if (State.Status is TenantStatus.Pending or TenantStatus.Cancelled && State.SubscriptionId is null)
        {
            State.SubdomainReleased = true;
            if (State.Status == TenantStatus.Pending)
            {
                State.Status = TenantStatus.Cancelled;
                Context.Record(TenantStatus.Pending, TenantStatus.Cancelled, "Alta abandonada sin pago; el subdominio queda libre");
                Context.Unschedule(ReconcileReminder);
                Context.Schedule(RefundReminder, TimeSpan.Zero, 20);
            }
            else
            {
                Context.Record(State.Status, null, "Subdominio liberado");
            }

            Context.Project();
        }
    }

    protected override Task OnTimerGaveUpAsync(TimerFiring firing, string error)
    {
        switch (firing.Name)
        {
            case StepReminder when State.Status is TenantStatus.Paid or TenantStatus.Placing or TenantStatus.Provisioning:
                var from = State.Status;
                State.Status = TenantStatus.Failed;
                State.FailReason = error;
                Context.Record(from, TenantStatus.Failed, $"Aprovisionamiento fallido tras {firing.Attempt} intentos: {error}." +
                    (State.Compensated ? "" : " Se deshace lo creado."));
                if (!State.Compensated)
                {
                    Context.Schedule(CompensateReminder, TimeSpan.Zero, 30);
                }

                Context.Project();
                break;
            case OdooPasswordReminder:
                State.PendingOdooPasswordProtected = null;
                Context.Record(State.Status, null, $"No se pudo poner la contraseña nueva al administrador de Odoo: {error}. " +
                    "La del portal sí cambió; en Odoo sigue valiendo la anterior.");
                break;
            default:
                Context.Record(State.Status, null, $"La tarea '{firing.Name}' se abandonó tras {firing.Attempt} intentos: {error}");
                break;
        }

        return Task.CompletedTask;
    }

    public async Task CompensatedAsync(string? upid)
    {
        if (State.Compensated)
        {
            return;
        }

        // The node grain releases first, before this turn's transaction takes any lock: a re-run after a crash finds
        // nothing held and releases nothing.
        if (State.ReservationKey is { } key)
        {
            await GrainFactory.GetGrain<IPlacementGrain>(0).ReleaseAsync(key, State.NodeId);
        }

        var (conn, tx) = await Context.DbAsync();
        if (State.Kind == "shared")
        {
            // Frees the slot once: a re-run of this turn finds no member row and frees nothing.
            await SharedSlots.LeaveAsync(conn, tx, Context.Key, CancellationToken.None);
        }

        if (State.Hostname is { } hostname && (State.Kind != "shared" || State.SharedCreator))
        {
            await using var cmd = new NpgsqlCommand(
                "DELETE FROM containers WHERE hostname = @h; UPDATE shared_containers SET status = 'failed' WHERE hostname = @h", conn, tx);
            cmd.Parameters.AddWithValue("h", hostname);
            await cmd.ExecuteNonQueryAsync();
        }

        State.Compensated = true;
        Context.Record(State.Status, null, "Limpieza completada: no queda nada del intento fallido; un administrador puede reintentar", upid);
        var node = State.NodeId ?? "";
        Context.After(grains => grains.GetGrain<ICapacityGrain>(GrainTypes.WaitingQueue).CapacityChangedAsync(node));
    }

    private async Task CancelAsync(string reason, bool refund, string? correlation = null)
    {
        // Half-made provisioning is undone; a tenant that was live keeps its container and data for the operator.
        var halfMade = State.Status is TenantStatus.Provisioning or TenantStatus.Failed;
        Context.Unschedule(StepReminder);
        Context.Unschedule(ReconcileReminder);
        Context.Unschedule(WaitingReminder);
        await MoveAsync(TenantStatus.Cancelled, reason, correlation);
        if (refund)
        {
            Context.Schedule(RefundReminder, TimeSpan.Zero, 20);
        }

        if (halfMade && !State.Compensated)
        {
            Context.Schedule(CompensateReminder, TimeSpan.Zero, 30);
        }

        // The subdomain stays reserved for a day after an unpaid cancellation, then is released.
        Context.Schedule(ReleaseReminder, State.SubscriptionId is null ? TimeSpan.Zero : Options.AbandonAfter, 20);
    }

    private async Task MoveAsync(string to, string reason, string? correlation = null)
    {
        var from = State.Status;
        State.Status = to;
        Context.Record(from, to, reason, correlation);
        Context.Project();
        ScheduleOdooPassword();
    }

    private void ScheduleStep(TimeSpan after) => Context.Schedule(StepReminder, after, Options.StepMaxAttempts);

    protected override async Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        // The tenants row is the read model of this grain (lists, search, /api/tenants/{id}); absolute values, so
        // applying it twice (after a crash between the state write and here) is harmless.
        if (State.Subdomain.Length == 0)
        {
            return; // A Stripe event came before the signup: there is no tenant to show yet.
        }

        await using var cmd = new NpgsqlCommand(SyncIndexSql, connection, transaction);
        cmd.Parameters.AddWithValue("id", Key);
        cmd.Parameters.AddWithValue("subdomain", State.Subdomain);
        cmd.Parameters.AddWithValue("company", State.CompanyName);
        cmd.Parameters.AddWithValue("email", State.Email);
        cmd.Parameters.AddWithValue("country", State.Country);
        cmd.Parameters.AddWithValue("plan", State.PlanId);
        cmd.Parameters.AddWithValue("customer", (object?)State.StripeCustomerId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("session", (object?)State.CheckoutSessionId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("checkout_url", (object?)State.CheckoutUrl ?? DBNull.Value);
        cmd.Parameters.AddWithValue("created", State.CreatedAt);
        cmd.Parameters.AddWithValue("status", State.Status);
        cmd.Parameters.AddWithValue("node", (object?)State.NodeId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("vmid", (object?)State.Vmid ?? DBNull.Value);
        cmd.Parameters.AddWithValue("url", (object?)State.Url ?? DBNull.Value);
        cmd.Parameters.AddWithValue("subscription", (object?)State.SubscriptionId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("waiting", (object?)State.WaitingSince ?? DBNull.Value);
        cmd.Parameters.AddWithValue("step", (object?)State.Step ?? DBNull.Value);
        cmd.Parameters.AddWithValue("fail_reason", (object?)State.FailReason ?? DBNull.Value);
        cmd.Parameters.AddWithValue("released", State.SubdomainReleased);
        cmd.Parameters.AddWithValue("password", State.OdooPasswordProtected);
        cmd.Parameters.AddWithValue("compensated", State.Compensated);
        await cmd.ExecuteNonQueryAsync();

        // In the transaction that writes the transitions to history: a mail exists exactly when its cause does. A
        // projection without history (no explicit transaction then) has no transition to mail about.
        if (transaction is not null && State.PendingHistory.Count > 0)
        {
            await TenantMail.EnqueueAsync(connection, transaction, Key, State, State.PendingHistory, Options, secrets, CancellationToken.None);
        }
    }

    private string OdooPassword() =>
        secrets.Unprotect(State.OdooPasswordProtected, OdooPasswordPurpose) ?? throw new InvalidOperationException("The tenant's Odoo password cannot be decrypted");

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct) => await Db.OpenConnectionAsync(ct);

    // Read at each decision (placing, creating), so the operator's last saved size applies without a silo restart.
    private async Task<SharedContainerSize> ReadSharedSizeOutsideAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await SharedContainerSize.ReadAsync(conn, null, Options.SharedDefaults, ct);
    }

    /// <summary>The size the node reserved for this tenant's container (null before a reservation, or once released).</summary>
    private async Task<(int Cores, int MemoryMb, int DiskGb)?> ReservedSizeOutsideAsync(CancellationToken ct)
    {
        if (State.ReservationKey is null)
        {
            return null;
        }

        await using var conn = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT cores, memory_mb, disk_gb FROM reservations WHERE key = @key AND released_at IS NULL", conn);
        cmd.Parameters.AddWithValue("key", State.ReservationKey);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (r.GetInt32(0), r.GetInt32(1), r.GetInt32(2)) : null;
    }

    private async Task<(int Cores, int MemoryMb, int DiskGb)> CurrentSizeOutsideAsync(CancellationToken ct)
    {
        if (State.Kind == "shared")
        {
            var size = await ReadSharedSizeOutsideAsync(ct);
            return (size.Cores, size.MemoryMb, size.DiskGb);
        }

        var plan = await ReadPlanOutsideAsync(ct);
        return (plan.Cores, plan.MemoryMb, plan.DiskGb);
    }

    private async Task<(int Cores, int MemoryMb, int DiskGb, bool Shared)> ReadPlanOutsideAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await ReadPlanAsync(conn, null);
    }
}
