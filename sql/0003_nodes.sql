-- Proxmox VE nodes Sajet places tenants on, what they hold, and what Sajet reserved on them.

CREATE TABLE nodes (
    id                   text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    -- The node's name inside Proxmox (the {node} in /nodes/{node}/...).
    pve_node             text        NOT NULL,
    api_url              text        NOT NULL,
    token_id             text        NOT NULL,
    -- AES-GCM ciphertext of the token secret; the secret itself is never stored, returned or logged.
    token_secret_enc     bytea       NOT NULL,
    fingerprint          text,
    insecure_tls         boolean     NOT NULL DEFAULT false,
    pve_version          text,
    -- Health, kept by the node grain: online after a successful poll, offline after consecutive failures.
    health               text        NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'online', 'offline')),
    maintenance          boolean     NOT NULL DEFAULT false,
    -- Limits set by the operator.
    max_containers       integer     NOT NULL DEFAULT 50 CHECK (max_containers > 0),
    cpu_overcommit       numeric(5,2) NOT NULL DEFAULT 2.0 CHECK (cpu_overcommit >= 1),
    storage              text        NOT NULL DEFAULT 'local-lvm',
    template             text        NOT NULL DEFAULT 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
    -- Capacity and observed use from the last successful poll (bytes; cpu as a 0..1 fraction of all cores).
    cores                integer     NOT NULL DEFAULT 0 CHECK (cores >= 0),
    memory_bytes         bigint      NOT NULL DEFAULT 0 CHECK (memory_bytes >= 0),
    disk_bytes           bigint      NOT NULL DEFAULT 0 CHECK (disk_bytes >= 0),
    cpu_used             double precision NOT NULL DEFAULT 0 CHECK (cpu_used >= 0),
    memory_used          bigint      NOT NULL DEFAULT 0 CHECK (memory_used >= 0),
    disk_used            bigint      NOT NULL DEFAULT 0 CHECK (disk_used >= 0),
    storage_present      boolean     NOT NULL DEFAULT false,
    template_present     boolean     NOT NULL DEFAULT false,
    metrics_at           timestamptz,
    -- The last poll's failure (Spanish, shown to operators); null after a successful poll.
    last_error           text,
    -- What Sajet reserved here (sum of live reservations); kept under this row's lock so placements never overcommit.
    reserved_cores       integer     NOT NULL DEFAULT 0 CHECK (reserved_cores >= 0),
    reserved_memory_mb   bigint      NOT NULL DEFAULT 0 CHECK (reserved_memory_mb >= 0),
    reserved_disk_gb     bigint      NOT NULL DEFAULT 0 CHECK (reserved_disk_gb >= 0),
    reserved_containers  integer     NOT NULL DEFAULT 0 CHECK (reserved_containers >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per live reservation: a dedicated tenant container or a shared container. Released rows are kept for history.
CREATE TABLE reservations (
    key          text PRIMARY KEY,
    node_id      text        NOT NULL REFERENCES nodes (id),
    cores        integer     NOT NULL CHECK (cores > 0),
    memory_mb    integer     NOT NULL CHECK (memory_mb > 0),
    disk_gb      integer     NOT NULL CHECK (disk_gb > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz
);
CREATE INDEX reservations_live_by_node ON reservations (node_id) WHERE released_at IS NULL;

-- Metric samples per node: raw for a day, then downsampled (kept by the node grain's retention step).
CREATE TABLE node_samples (
    node_id      text        NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    -- 'raw' or '1h' (hourly averages of older samples).
    resolution   text        NOT NULL DEFAULT 'raw' CHECK (resolution IN ('raw', '1h')),
    cpu          double precision NOT NULL,
    memory_used  bigint      NOT NULL,
    memory_total bigint      NOT NULL,
    disk_used    bigint      NOT NULL,
    disk_total   bigint      NOT NULL,
    containers   integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (node_id, resolution, at)
);

-- Alerts raised when a node passes a threshold (with hysteresis) or goes offline; closed when it recovers.
CREATE TABLE node_alerts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node_id      text        NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('cpu', 'memory', 'disk', 'offline', 'drift')),
    message      text        NOT NULL,
    value        double precision,
    raised_at    timestamptz NOT NULL DEFAULT now(),
    cleared_at   timestamptz
);
CREATE UNIQUE INDEX node_alerts_one_open ON node_alerts (node_id, kind) WHERE cleared_at IS NULL AND kind <> 'drift';

-- Containers Sajet knows about (dedicated tenant containers and shared Odoo containers), reconciled with the cluster.
CREATE TABLE containers (
    vmid         integer     PRIMARY KEY CHECK (vmid BETWEEN 100 AND 999999999),
    node_id      text        NOT NULL REFERENCES nodes (id),
    hostname     text        NOT NULL UNIQUE,
    kind         text        NOT NULL CHECK (kind IN ('dedicated', 'shared')),
    tenant_id    text,
    -- Sajet's lifecycle status of the container (written by the tenant grain).
    status       text        NOT NULL DEFAULT 'creating',
    -- What Proxmox last reported ('running', 'stopped', ...), written by the node grain's poll.
    observed_status text,
    -- The placement reservation this container holds, so a move by HA moves the reserved capacity with it.
    reservation_key text REFERENCES reservations (key),
    -- Shared Odoo containers hold several tenant databases.
    slots_total  integer     NOT NULL DEFAULT 1 CHECK (slots_total > 0),
    slots_used   integer     NOT NULL DEFAULT 0 CHECK (slots_used >= 0),
    cpu          double precision,
    memory_used  bigint,
    disk_used    bigint,
    seen_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT slots_fit CHECK (slots_used <= slots_total)
);

-- Drift found by reconciliation: reported for an operator, never acted on silently.
CREATE TABLE container_drift (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node_id      text        NOT NULL,
    vmid         integer     NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('unknown_tagged', 'missing', 'moved')),
    detail       text        NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);
CREATE UNIQUE INDEX container_drift_one_open ON container_drift (vmid, kind) WHERE resolved_at IS NULL;
CREATE INDEX container_drift_by_node ON container_drift (node_id, found_at);
CREATE INDEX containers_by_node ON containers (node_id);

-- Operator settings that grains read (thresholds, poll interval, placement strategy).
CREATE TABLE settings (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
INSERT INTO settings (key, value) VALUES
    ('placement.headroom', '0.8'),
    ('placement.strategy', '"spread"'),
    ('placement.metrics_max_age_seconds', '300'),
    ('nodes.poll_interval_seconds', '60'),
    ('nodes.offline_after_failures', '3'),
    ('nodes.alert_threshold', '0.8'),
    ('nodes.alert_clear_below', '0.7');
