-- Reservations now live in the node grains' state; this table is their read model, projected after each node-grain
-- state write. A row another owner writes must not depend on it: a tenant grain's container row failed its foreign key
-- while its node's projection was still behind (after a PostgreSQL restart) and the tenant stopped moving. The key is
-- still recorded on the container, which is how a reservation follows a moved container.
ALTER TABLE containers DROP CONSTRAINT IF EXISTS containers_reservation_key_fkey;

COMMENT ON TABLE reservations IS 'Read model of the node grains'' reservations (their state is the truth); written only by the node grain of node_id.';
