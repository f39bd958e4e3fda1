-- Password-reset links (owner: src/WebFront/Auth/PasswordReset.cs). Only the token's SHA-256 is kept: a copy of this
-- table lets nobody in. A link works once (used_at) and until expires_at.
CREATE TABLE password_resets (
    token_hash  bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_by_user ON password_resets (user_id, created_at);
