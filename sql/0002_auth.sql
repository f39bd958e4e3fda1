-- Accounts, sessions and the security audit trail of the web front.

-- One row per person who can sign in: operators (admin) and customers (tenant).
CREATE TABLE users (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The login name: an email, except the first admin whose ADMIN_USERNAME may be a plain name.
    -- Stored trimmed and lower-cased; the unique index below makes it case-insensitive anyway.
    email               text        NOT NULL,
    role                text        NOT NULL,
    -- The tenant a customer belongs to (its grain key); operators belong to none.
    tenant_id           text,
    -- ASP.NET Core Identity's PasswordHasher format (PBKDF2, versioned, salted).
    password_hash       text        NOT NULL,
    -- TOTP seeds are encrypted by SecretProtector (AES-GCM), never stored in clear.
    totp_secret         text,
    totp_enabled        boolean     NOT NULL DEFAULT false,
    -- A seed handed out by 2FA set-up, waiting for its first valid code to be confirmed.
    totp_pending_secret text,
    -- The last time step whose code was accepted: a code is never accepted twice.
    totp_last_step      bigint,
    -- Failed sign-ins counted within a window that starts at the first failure.
    failed_count        integer     NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    failed_window_start timestamptz,
    locked_until        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role CHECK (role IN ('admin', 'tenant')),
    -- A customer always belongs to exactly one tenant; an operator to none.
    CONSTRAINT users_tenant_matches_role CHECK ((role = 'tenant') = (tenant_id IS NOT NULL)),
    -- 2FA cannot be on without a seed to check codes against.
    CONSTRAINT users_totp_has_secret CHECK (NOT totp_enabled OR totp_secret IS NOT NULL),
    CONSTRAINT users_email_shape CHECK (email = lower(btrim(email)) AND char_length(email) BETWEEN 1 AND 254)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_by_tenant ON users (tenant_id) WHERE tenant_id IS NOT NULL;

-- Single-use recovery codes, stored as keyed hashes (HMAC-SHA256); shown to the user once.
CREATE TABLE user_recovery_codes (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Refresh tokens rotate on every use. All tokens descending from one sign-in share a family;
-- presenting a token that was already rotated or revoked revokes the whole family (theft detection).
CREATE TABLE refresh_tokens (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id         uuid        NOT NULL,
    -- SHA-256 of the random token; the token itself only ever lives in the client's cookie.
    token_hash        bytea       NOT NULL UNIQUE,
    -- When the sign-in that started the family happened: bounds the session's absolute lifetime.
    family_started_at timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    -- Set when the token was exchanged for its successor.
    rotated_at        timestamptz,
    revoked_at        timestamptz,
    CONSTRAINT refresh_expires_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- Security-relevant events: failed sign-ins, lockouts, rate-limit rejections, bad webhook
-- signatures, admin actions. Also appended as JSON lines to logs/security_audit.log.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind     text        NOT NULL,
    -- Who did it: a user's login name, 'anonymous', 'system', 'stripe'.
    actor    text        NOT NULL,
    ip       text,
    detail   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    severity text        NOT NULL DEFAULT 'info',
    CONSTRAINT audit_severity CHECK (severity IN ('info', 'warning', 'critical')),
    CONSTRAINT audit_kind_shape CHECK (kind ~ '^[a-z][a-z0-9_.]{0,62}$')
);
CREATE INDEX audit_log_by_time ON audit_log (at DESC);
CREATE INDEX audit_log_by_kind ON audit_log (kind, at DESC);
