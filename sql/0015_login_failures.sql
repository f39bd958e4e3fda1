-- Failed sign-ins per IP and per login name, shared by every web front instance, so the limit an attacker reaches
-- through one instance holds on the others. One row per failure: the window slides (a fixed window let a burst
-- straddle its boundary). A blocked attempt records nothing, so a key holds at most its limit of rows per window.
-- Owner: the web front's LoginThrottle (src/WebFront/Security/RateLimiting.cs), which also deletes expired rows.
CREATE TABLE login_failures (
    scope text        NOT NULL CHECK (scope IN ('ip', 'account')),
    key   text        NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (scope, key, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
