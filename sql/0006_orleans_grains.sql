-- Sajet's grains run on Orleans (state, membership and reminders in the tables of 0005). What stays here is Sajet's:
-- the outbox that carries the web front's commands to grains, history keyed by state version, and the read-model
-- columns the tenant grain projects. The home-made runtime's tables go.

-- Commands for grains, written in the same transaction as whatever caused them (a stored Stripe event, a signup, an
-- admin action). The silos' dispatcher claims due rows (run_at <= now(), SKIP LOCKED), calls the grain with the row's
-- id as the command id, and deletes the row once the grain answered; a claim is a lease (run_at moved forward), so a
-- silo that dies mid-delivery only delays its rows.
CREATE TABLE outbox (
    id          uuid        PRIMARY KEY,
    grain_type  text        NOT NULL CHECK (grain_type ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    grain_key   text        NOT NULL CHECK (char_length(grain_key) BETWEEN 1 AND 200),
    -- A stable command name (OutboxKinds): rows outlive a deploy.
    kind        text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Due time while waiting; lease expiry while a silo delivers it.
    run_at      timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  text
);
-- Matches the claim's WHERE run_at <= now() ORDER BY run_at.
CREATE INDEX outbox_due ON outbox (run_at, id);

-- History rows are projected after the grain's state write and again on activation if a crash came between: the
-- (grain, state version, position) key makes the second projection insert nothing.
ALTER TABLE grain_events ADD COLUMN version bigint, ADD COLUMN seq integer;
CREATE UNIQUE INDEX grain_events_once ON grain_events (grain_type, grain_key, version, seq);

-- Read-model columns of the tenant grain (the web front reads these, never the grain's stored state).
ALTER TABLE tenants
    ADD COLUMN step text,
    ADD COLUMN fail_reason text,
    -- The tenant's Odoo administrator password, encrypted with Sajet's key (SecretProtector, purpose "odoo-admin").
    ADD COLUMN odoo_password_protected text,
    -- False while what a failed attempt made (container, database, reservation) is still being removed.
    ADD COLUMN compensated boolean NOT NULL DEFAULT true;

DROP TABLE reminders;
DROP TABLE grains;
DROP TABLE silos;
