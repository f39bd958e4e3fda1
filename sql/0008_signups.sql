-- One writer per table: the tenants row is the tenant grain's read model, and only the grain writes it (it upserts
-- the whole row from its state when it applies the signup). The signup feature of the web front keeps what it needs
-- before and besides that in a table of its own, written by nobody else (src/WebFront/Onboarding/Signup.cs):
-- the claim on the subdomain, made before Stripe is called, and the Stripe objects it created, so webhooks and
-- /success find the tenant before the outbox has delivered the signup to its grain (or while no silo runs).
--
-- Who releases a name: the grain decides that an abandoned signup gives its subdomain back and projects it
-- (tenants.subdomain_released); it cannot write this table. The next signup that wants the name copies that fact
-- onto the old claim (released = true, in the transaction that inserts its own claim), so uniqueness stays a real
-- unique index below — concurrent signups for one name cannot both win — while each table keeps its one writer.
CREATE TABLE signups (
    tenant_id            text PRIMARY KEY,
    subdomain            text        NOT NULL CHECK (subdomain ~ '^[a-z0-9]([a-z0-9-]{1,28})[a-z0-9]$'),
    -- Copied from tenants.subdomain_released by a later signup of the same name; never set otherwise.
    released             boolean     NOT NULL DEFAULT false,
    -- Null until the Stripe customer and Checkout Session exist; a claim whose checkout could not be created is
    -- deleted again, so a row without a session is one whose signup is still talking to Stripe.
    stripe_customer_id   text,
    checkout_session_id  text UNIQUE,
    checkout_url         text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT signups_checkout_complete CHECK ((stripe_customer_id IS NULL) = (checkout_session_id IS NULL))
);
-- One live claim per subdomain, case-insensitively (the signup's INSERT … ON CONFLICT DO NOTHING relies on it).
CREATE UNIQUE INDEX signups_subdomain_live ON signups (lower(subdomain)) WHERE NOT released;
-- The webhook router's lookup by Stripe customer (StripeEventStore).
CREATE INDEX signups_by_customer ON signups (stripe_customer_id);

-- Every tenant so far was signed up by the web front writing its tenants row: each gets its claim, released where
-- the grain had released the name.
INSERT INTO signups (tenant_id, subdomain, released, stripe_customer_id, checkout_session_id, checkout_url, created_at)
SELECT id, subdomain, subdomain_released,
       CASE WHEN checkout_session_id IS NOT NULL THEN stripe_customer_id END,
       CASE WHEN stripe_customer_id IS NOT NULL THEN checkout_session_id END,
       checkout_url, created_at
FROM tenants
ON CONFLICT (tenant_id) DO NOTHING;
