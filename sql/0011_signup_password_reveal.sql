-- The generated password (Odoo administrator and customer portal) is shown on /success once, to the browser that
-- started the checkout, shortly after the tenant became active (src/WebFront/Onboarding/PasswordReveal.cs). Before
-- this, anyone holding the Checkout Session id (it travels in the /success URL: history, proxies, screenshots) could
-- read it for as long as the tenant was active.
--
-- The signup stores only a hash of the random token it set as that browser's cookie, so the table alone reveals
-- nothing. The reveal is recorded here, by the web front that owns the table: one UPDATE … WHERE
-- password_revealed_at IS NULL decides which single request gets the password.
ALTER TABLE signups
    ADD COLUMN browser_token_hash bytea,
    ADD COLUMN password_revealed_at timestamptz,
    -- SHA-256 of the cookie's token.
    ADD CONSTRAINT signups_browser_token_sha256 CHECK (browser_token_hash IS NULL OR octet_length(browser_token_hash) = 32),
    -- The token is set with the checkout it belongs to; rows from before this migration have neither a token nor a reveal.
    ADD CONSTRAINT signups_browser_token_with_checkout CHECK (browser_token_hash IS NULL OR checkout_session_id IS NOT NULL),
    -- Only the browser holding the token can be shown the password.
    ADD CONSTRAINT signups_reveal_needs_token CHECK (password_revealed_at IS NULL OR browser_token_hash IS NOT NULL);
