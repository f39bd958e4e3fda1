-- The durable grain runtime: grain state, reminders (durable timers and work items), history, silos.
-- Nothing here knows about tenants or nodes; domain tables come in later files.

-- One row per grain. Calls lock this row (FOR UPDATE), so one call at a time per grain on any silo.
CREATE TABLE grains (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    state       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- The grain's state name, copied out of the jsonb so lists can filter and count without parsing it.
    status      text,
    -- Bumped on every write; readers use it to detect a change they already saw.
    version     bigint      NOT NULL DEFAULT 0 CHECK (version >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key),
    CONSTRAINT grain_type_shape CHECK (grain_type ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT grain_key_length CHECK (char_length(grain_key) BETWEEN 1 AND 200)
);
CREATE INDEX grains_by_status ON grains (grain_type, status);

-- Reminders: unique per (grain, name). A reminder is idle (no lease) or leased by one silo.
CREATE TABLE reminders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grain_type   text        NOT NULL,
    grain_key    text        NOT NULL,
    name         text        NOT NULL,
    payload      jsonb,
    -- When this firing was due; kept while leased so lag can be measured and shown.
    due_at       timestamptz NOT NULL,
    -- When the row can next be claimed: the due time while idle, the lease expiry while leased.
    -- One column for both lets one index serve the claim and the rescue of expired leases.
    run_at       timestamptz NOT NULL,
    -- Claims of the current firing so far (a claim counts even if its silo died).
    attempt      integer     NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts integer     NOT NULL DEFAULT 25 CHECK (max_attempts BETWEEN 1 AND 1000),
    lease_owner  text,
    lease_token  uuid,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reminders_unique UNIQUE (grain_type, grain_key, name),
    -- A lease is an owner and a token together, or neither.
    CONSTRAINT lease_complete CHECK ((lease_owner IS NULL) = (lease_token IS NULL)),
    -- An idle reminder is claimable at its due time; only a lease moves run_at away from due_at.
    CONSTRAINT idle_runs_when_due CHECK (lease_owner IS NOT NULL OR run_at >= due_at),
    CONSTRAINT name_length CHECK (char_length(name) BETWEEN 1 AND 200)
);
-- Matches the claim's WHERE run_at <= now() ORDER BY run_at.
CREATE INDEX reminders_claim ON reminders (run_at);
CREATE INDEX reminders_lease ON reminders (lease_token) WHERE lease_token IS NOT NULL;

-- History: every transition of every grain, oldest first by id.
CREATE TABLE grain_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grain_type     text        NOT NULL,
    grain_key      text        NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    from_state     text,
    to_state       text,
    reason         text        NOT NULL,
    -- Who caused it: 'system', 'reminder:<name>', 'stripe', 'admin:<user>', ...
    actor          text        NOT NULL,
    -- An external id that ties the event to the outside world: a Stripe event id, a Proxmox UPID.
    correlation_id text,
    data           jsonb
);
CREATE INDEX grain_events_by_grain ON grain_events (grain_type, grain_key, id);

-- Silo processes and their heartbeats; a silo whose heartbeat is old is gone (its leases expire on their own).
CREATE TABLE silos (
    silo_id      text        PRIMARY KEY,
    host         text        NOT NULL,
    pid          integer     NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);
