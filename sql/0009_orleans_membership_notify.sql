-- Clients (the web front) learn that a silo was voted out, or that a new one became active, at once instead of at
-- their next gateway-list read. A client's gateway list is Orleans' periodic read of the active gateways; a frozen silo
-- keeps its TCP connections open, so until that read a client kept sending a third of its calls (3 silos) to the frozen
-- gateway, where they timed out: 28 s after the silo was declared dead in `./sajet bench engine` (the read is every
-- 30 s). Each status change of a silo now notifies; clients LISTEN and re-read the list (src/Cluster). Heartbeats and
-- suspicion votes do not change the status, so they notify nothing: an idle cluster sends no notifications.
CREATE FUNCTION orleans_membership_notify() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    -- The payload is the cluster id, so clients of another cluster in the same database can ignore it.
    PERFORM pg_notify('orleans_membership', NEW.deployment_id);
    RETURN NULL;
END
$f$;

CREATE TRIGGER orleans_membership_status_changed
    AFTER UPDATE OF status ON orleans_membership
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION orleans_membership_notify();
