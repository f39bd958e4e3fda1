-- Plans, tenants (the index the web front and admins query; the tenant grain's state holds the rest), Stripe events.

CREATE TABLE plans (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]{1,30}$'),
    name         text    NOT NULL,
    price_cents  integer NOT NULL CHECK (price_cents >= 0),
    currency     text    NOT NULL DEFAULT 'usd',
    cores        integer NOT NULL CHECK (cores > 0),
    memory_mb    integer NOT NULL CHECK (memory_mb >= 256),
    disk_gb      integer NOT NULL CHECK (disk_gb > 0),
    backup       text    NOT NULL,
    sla          text    NOT NULL,
    -- Shared plans put the tenant's database in a shared Odoo container; others get a dedicated LXC.
    shared       boolean NOT NULL,
    ha           boolean NOT NULL DEFAULT false,
    active       boolean NOT NULL DEFAULT true,
    sort         integer NOT NULL DEFAULT 0
);
INSERT INTO plans (id, name, price_cents, cores, memory_mb, disk_gb, backup, sla, shared, ha, sort) VALUES
    ('basic',      'Basic',      2900, 1, 2048,  10,  'Semanal',      '99%',   true,  false, 1),
    ('pro',        'Pro',        4900, 2, 4096,  50,  'Diaria',       '99.5%', false, false, 2),
    ('enterprise', 'Enterprise', 9900, 4, 8192,  100, 'Cada 6 horas', '99.9%', false, true,  3);

CREATE TABLE tenants (
    id                   text PRIMARY KEY,
    subdomain            text        NOT NULL CHECK (subdomain ~ '^[a-z0-9]([a-z0-9-]{1,28})[a-z0-9]$'),
    -- Set when an abandoned signup gives its subdomain back; a released name can be taken again.
    subdomain_released   boolean     NOT NULL DEFAULT false,
    company_name         text        NOT NULL CHECK (char_length(company_name) BETWEEN 1 AND 200),
    email                text        NOT NULL,
    country              text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    plan_id              text        NOT NULL REFERENCES plans (id),
    -- Mirrors the grain's state name (grains.status) for lists, filters and the waiting queue.
    status               text        NOT NULL DEFAULT 'pending',
    stripe_customer_id   text,
    checkout_session_id  text UNIQUE,
    checkout_url         text,
    subscription_id      text,
    url                  text,
    node_id              text,
    vmid                 integer,
    waiting_since        timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
-- One live owner per subdomain, case-insensitively.
CREATE UNIQUE INDEX tenants_subdomain_live ON tenants (lower(subdomain)) WHERE NOT subdomain_released;
CREATE INDEX tenants_by_status ON tenants (status, created_at);
CREATE INDEX tenants_waiting ON tenants (waiting_since) WHERE status = 'waiting_for_capacity';
CREATE INDEX tenants_by_customer ON tenants (stripe_customer_id);
CREATE INDEX tenants_by_subscription ON tenants (subscription_id);

-- Every verified Stripe event, stored once; duplicates are acknowledged and change nothing.
CREATE TABLE stripe_events (
    id           text PRIMARY KEY,
    type         text        NOT NULL,
    created      timestamptz NOT NULL,
    livemode     boolean     NOT NULL DEFAULT false,
    tenant_id    text,
    payload      jsonb       NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_by_tenant ON stripe_events (tenant_id, created);

-- Shared Odoo containers (Basic plan): each holds up to slots_total tenant databases. The tenant that found no room
-- creates one ('creating'); others may join it at once and wait until it is 'running'.
CREATE TABLE shared_containers (
    hostname        text PRIMARY KEY,
    node_id         text        NOT NULL,
    vmid            integer,
    status          text        NOT NULL DEFAULT 'creating' CHECK (status IN ('creating', 'running', 'failed', 'deleted')),
    slots_total     integer     NOT NULL CHECK (slots_total > 0),
    slots_used      integer     NOT NULL DEFAULT 0 CHECK (slots_used >= 0),
    creator_tenant  text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shared_slots_fit CHECK (slots_used <= slots_total)
);
