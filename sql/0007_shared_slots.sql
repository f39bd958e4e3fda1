-- Who holds a slot in which shared Odoo container (Basic plan). One row per tenant: joining twice (a turn re-run
-- after a crash between its SQL commit and its state write) finds the row instead of taking a second slot, and
-- leaving deletes it once. shared_containers.slots_used is changed only in the statement that inserts or deletes a
-- member row (SharedSlots in src/Grains.Interfaces/Placement), so the count follows membership.
CREATE TABLE shared_container_members (
    tenant_id  text PRIMARY KEY,
    hostname   text        NOT NULL REFERENCES shared_containers (hostname) ON DELETE CASCADE,
    joined_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shared_container_members_by_container ON shared_container_members (hostname);

-- Containers made before this table: the creator held the first slot. Joiners of that time are not recorded in SQL
-- (only in their grains' state); their slots stay counted in slots_used, as before.
INSERT INTO shared_container_members (tenant_id, hostname)
SELECT creator_tenant, hostname FROM shared_containers WHERE status IN ('creating', 'running')
ON CONFLICT (tenant_id) DO NOTHING;

-- The join query: live containers in join order.
CREATE INDEX shared_containers_live ON shared_containers (status, slots_used) WHERE status IN ('creating', 'running');
