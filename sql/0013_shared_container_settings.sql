-- The size of a new shared Odoo container (Basic plan) and how many tenant databases one holds, editable on the admin
-- settings page instead of only through the silo's configuration (Tenants__Shared*). Seeded with TenantOptions'
-- defaults, as sql/0003 seeds the placement keys, so the page shows what grains use; a key deleted by hand falls back
-- to the silo's TenantOptions again (SharedContainerSize in src/Grains.Interfaces/Placement reads them).
INSERT INTO settings (key, value) VALUES
    ('shared.cores', '4'),
    ('shared.memory_mb', '8192'),
    ('shared.disk_gb', '100'),
    ('shared.slots', '10')
ON CONFLICT (key) DO NOTHING;
