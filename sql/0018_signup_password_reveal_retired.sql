-- /success no longer shows a password (issue 14): the welcome mail carries a single-use link (WelcomeLink, spent in
-- password_resets) to choose one for the portal and the Odoo administrator alike. The reveal's record goes with it;
-- browser_token_hash stays, it still decides which browser is shown the login.
ALTER TABLE signups
    DROP CONSTRAINT signups_reveal_needs_token,
    DROP COLUMN password_revealed_at;
