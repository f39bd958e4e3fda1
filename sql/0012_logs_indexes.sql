-- Indexes for /admin/logs, which reads the audit trail and the tenants' history as one stream, newest first.
-- Both tables keep their writers (AuditLog; the workflow grains' history projection); these only serve the reader.

-- The tenants' history by time: the page's default order, and the "desde/hasta" range.
CREATE INDEX grain_events_tenant_by_time ON grain_events (at DESC, id DESC) WHERE grain_type = 'tenant';

-- The audit events of one tenant (admins' resolutions, suspensions, portal visits record it in detail.tenant).
CREATE INDEX audit_log_by_tenant ON audit_log ((detail->>'tenant'), at DESC);
