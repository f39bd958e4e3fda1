-- Orleans' own tables: cluster membership, grain state and reminders, for the ADO.NET providers of Orleans 10.4.2.
--
-- The providers ship no SQL. At start each reads its statements from OrleansQuery (a fixed name they query
-- unquoted) and from then on runs only those, binding @Parameters by name and reading result columns by name.
-- That contract (keys, parameter names, result columns) is the one of the provider assemblies built from
-- dotnet/orleans 876ffe03; the table layout and the statements below are Sajet's own. Every statement is a single
-- statement (no functions to keep in step), so what runs is exactly what is in this file.
--
-- Orleans owns these rows. Sajet's code never writes them; the web front only reads orleans_membership for /health.

CREATE TABLE OrleansQuery (
    QueryKey  text PRIMARY KEY,
    QueryText text NOT NULL CHECK (QueryText <> '')
);

-- ─── Membership ─────────────────────────────────────────────────────────────────────────────────────────────────
-- One version row per cluster (deployment_id = ClusterOptions.ClusterId). Every change of membership bumps it under
-- optimistic concurrency: the silo sends the version it read, and the change is applied only if that is still the
-- version. I-am-alive heartbeats are the exception (they do not bump it: they are not membership changes).

CREATE TABLE orleans_membership_version (
    deployment_id text        PRIMARY KEY CHECK (deployment_id <> ''),
    version       integer     NOT NULL DEFAULT 0 CHECK (version >= 0),
    changed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership (
    -- Deleting a cluster's version row (DeleteMembershipTableEntriesKey) takes its silos with it.
    deployment_id   text        NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address         text        NOT NULL CHECK (address <> ''),
    port            integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    -- A silo restarted on the same address and port is a new member: the generation tells the two apart.
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    -- Orleans' SiloStatus: 0 None, 1 Created, 2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead.
    status          integer     NOT NULL CHECK (status BETWEEN 0 AND 6),
    -- 0 when the silo has no gateway; the provider reads it as a plain integer, so never NULL.
    proxy_port      integer     NOT NULL DEFAULT 0 CHECK (proxy_port BETWEEN 0 AND 65535),
    -- Votes of other silos that suspect this one: "silo-address,time|silo-address,time" as Orleans writes them.
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Run by every silo at start; true only for the silo that created the row.
('InsertMembershipVersionKey', $q$
WITH inserted AS (
    INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) > 0 FROM inserted
$q$),

-- A silo joins. The version row is locked first (and rechecked against @Version by the lock), so the insert and the
-- bump are one change or none: a silo that lost the race, or a row that already exists, bumps nothing and gets false.
('InsertMembershipKey', $q$
WITH current_version AS (
    SELECT deployment_id FROM orleans_membership_version
    WHERE deployment_id = @DeploymentId AND version = @Version
    FOR UPDATE
), inserted AS (
    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                    start_time, i_am_alive_time)
    SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM current_version
    ON CONFLICT (deployment_id, address, port, generation) DO NOTHING
    RETURNING deployment_id
), bumped AS (
    UPDATE orleans_membership_version v SET version = v.version + 1, changed_at = now()
    FROM inserted WHERE v.deployment_id = inserted.deployment_id
    RETURNING 1
)
SELECT count(*) > 0 FROM bumped
$q$),

-- Status changes and suspicion votes: same shape as the insert (lock the version, change the row, bump the version).
('UpdateMembershipKey', $q$
WITH current_version AS (
    SELECT deployment_id FROM orleans_membership_version
    WHERE deployment_id = @DeploymentId AND version = @Version
    FOR UPDATE
), updated AS (
    UPDATE orleans_membership m
    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
    FROM current_version
    WHERE m.deployment_id = current_version.deployment_id
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING m.deployment_id
), bumped AS (
    UPDATE orleans_membership_version v SET version = v.version + 1, changed_at = now()
    FROM updated WHERE v.deployment_id = updated.deployment_id
    RETURNING 1
)
SELECT count(*) > 0 FROM bumped
$q$),

-- The heartbeat. Orleans neither checks its result nor versions it.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- The version row comes back even when the silo has no row yet (the provider reads a missing StartTime as "no member").
('MembershipReadRowKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.deployment_id = v.deployment_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deployment_id = @DeploymentId
$q$),

('MembershipReadAllKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId
$q$),

-- Clients pick their gateways here (@Status is Active).
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM orleans_membership
WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

-- Drops a whole cluster; the cascade removes its silos in the same statement.
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
$q$),

-- Old rows of silos that are not active and have not sent a heartbeat since @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$q$);

-- ─── Grain state ────────────────────────────────────────────────────────────────────────────────────────────────
-- One row per (service, state name, grain key). The provider names the state "grain type" (grain_type); it is the
-- state name given to [PersistentState], so two grain types must not share a state name.
-- Grain keys arrive in three shapes: an integer (n0 = 0, n1 = key), a Guid (n0/n1 = its halves) or a string (n0 = n1
-- = 0, the string in key_ext); integer and Guid keys may carry a string extension in key_ext too.

CREATE TABLE orleans_storage (
    service_id       text        NOT NULL CHECK (service_id <> ''),
    grain_type       text        NOT NULL CHECK (grain_type <> ''),
    grain_id_n0      bigint      NOT NULL,
    grain_id_n1      bigint      NOT NULL,
    key_ext          text,
    -- Hashes the provider computes from the key and the state name: the lookup index uses them, so a lookup touches
    -- one index entry even for string keys (whose n0/n1 are all zero). They are not the identity; the key below is.
    grain_id_hash    integer     NOT NULL,
    grain_type_hash  integer     NOT NULL,
    -- The state as JSON text (see the silo's storage serializer), kept verbatim so an operator can read and query it.
    -- NULL after ClearStateAsync: the row stays so the version keeps counting and a stale activation still conflicts.
    payload          json,
    -- The ETag. Starts at 1 and only grows: a write must name the version it read.
    version          integer     NOT NULL CHECK (version >= 1),
    modified_at      timestamptz NOT NULL DEFAULT now()
);
-- The identity upstream's table lacks: two first writes racing for one grain cannot both insert (the loser's
-- ON CONFLICT DO NOTHING returns no row, hence InconsistentStateException). Two partial indexes because a NULL key_ext
-- must collide with NULL, and a plain UNIQUE treats NULLs as distinct (NULLS NOT DISTINCT would need PostgreSQL 15).
CREATE UNIQUE INDEX orleans_storage_identity ON orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1, key_ext)
    WHERE key_ext IS NOT NULL;
CREATE UNIQUE INDEX orleans_storage_identity_no_ext ON orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1)
    WHERE key_ext IS NULL;
CREATE INDEX orleans_storage_lookup ON orleans_storage (grain_id_hash, grain_type_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- PayloadBinary is NULL for a cleared state; the provider then hands the grain a new state with the row's version.
('ReadFromStorageKey', $q$
SELECT convert_to(payload::text, 'UTF8') AS "PayloadBinary", version AS "Version"
FROM orleans_storage
WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND key_ext IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- With a version: update only that version. Without one (the grain never saw a row): insert, and if a row appeared
-- meanwhile, do nothing. Either way no row comes back when the write lost, which the provider turns into
-- InconsistentStateException: a stale activation never overwrites newer state.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE orleans_storage
    SET payload = convert_from(@PayloadBinary, 'UTF8')::json, version = version + 1, modified_at = now()
    WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
      AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND key_ext IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version
), inserted AS (
    INSERT INTO orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1, key_ext, grain_id_hash, grain_type_hash,
                                 payload, version)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @GrainIdHash, @GrainTypeHash,
           convert_from(@PayloadBinary, 'UTF8')::json, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
)
SELECT version AS "NewGrainStateVersion" FROM updated
UNION ALL
SELECT version FROM inserted
$q$),

-- ClearStateAsync on a provider with DeleteStateOnClear = false: the payload goes, the row and its version stay.
('ClearStorageKey', $q$
UPDATE orleans_storage
SET payload = NULL, version = version + 1, modified_at = now()
WHERE version = @GrainStateVersion
  AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND key_ext IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version AS "NewGrainStateVersion"
$q$),

-- ClearStateAsync with DeleteStateOnClear = true. The provider wants a version different from the one it sent.
('DeleteStorageKey', $q$
DELETE FROM orleans_storage
WHERE version = @GrainStateVersion
  AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND key_ext IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version + 1 AS "NewGrainStateVersion"
$q$);

-- ─── Reminders ──────────────────────────────────────────────────────────────────────────────────────────────────
-- Each silo owns a range of the grain-hash ring and reads the reminders whose grain_hash falls in it.

CREATE TABLE orleans_reminders (
    service_id    text        NOT NULL CHECK (service_id <> ''),
    grain_id      text        NOT NULL CHECK (grain_id <> ''),
    reminder_name text        NOT NULL CHECK (reminder_name <> ''),
    start_time    timestamptz NOT NULL,
    -- Milliseconds; Orleans sends an int or a bigint depending on the size.
    period_ms     bigint      NOT NULL CHECK (period_ms >= 0),
    -- The grain's uniform hash as a signed integer (Orleans casts its uint).
    grain_hash    integer     NOT NULL,
    -- The ETag: a removal must name the version it read.
    version       integer     NOT NULL DEFAULT 0 CHECK (version >= 0),
    PRIMARY KEY (service_id, grain_id, reminder_name)
);
CREATE INDEX orleans_reminders_ring ON orleans_reminders (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET start_time = excluded.start_time, period_ms = excluded.period_ms, grain_hash = excluded.grain_hash,
    version = orleans_reminders.version + 1
RETURNING version AS "Version"
$q$),

('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),

('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),

-- A range that does not wrap in signed order: (begin, end].
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),

-- A range that wraps past the end of the signed ring (and the whole ring when begin = end): (begin, max] ∪ [min, end].
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),

('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleans_reminders
    WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName AND version = @Version
    RETURNING 1
)
SELECT count(*) > 0 FROM deleted
$q$),

-- Only Orleans' test hooks call this (IReminderTable.TestOnlyClearTable): every reminder of the service.
('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminders WHERE service_id = @ServiceId
$q$);
