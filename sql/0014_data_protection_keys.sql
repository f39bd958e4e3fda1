-- ASP.NET Data Protection's key ring (antiforgery tokens, the 2FA step cookie), shared by every web front instance so a
-- form rendered by one is accepted by another. Each key's XML is encrypted with Sajet's secret before it is stored.
-- Owner: the web front (src/WebFront/Security/DataProtectionKeys.cs).
CREATE TABLE data_protection_keys (
    friendly_name text PRIMARY KEY,
    xml           text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
