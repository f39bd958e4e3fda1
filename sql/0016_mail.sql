-- Mail to customers and operators goes through a durable outbox: a row is written in the same transaction as the state
-- change that causes it (a tenant grain's history projection, a node alert), so a mail is never lost nor invented by a
-- crash. The silos' mail sender claims due rows (SKIP LOCKED) under a lease and marks a row sent right after the SMTP
-- server accepted its DATA: delivery is at least once, and the Message-Id derived from the row id lets a receiver
-- recognise a repeat. Rows are kept after sending: /admin/logs lists them.
-- Owner: src/Grains/Mail/MailOutbox.cs (enqueue, claim, finish); the web front only reads it.
CREATE TABLE mail_outbox (
    -- Derived from what caused the mail (tenant grain, state version, history position, template; or a node alert's
    -- id), so projecting the same history twice enqueues nothing new.
    id           uuid        PRIMARY KEY,
    -- For the logs page, which orders and pages every log by (at, bigint id).
    seq          bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    -- Stable across retries: the same mail sent twice is recognisably the same.
    message_id   text        GENERATED ALWAYS AS ('<' || id::text || '@sajet.mail>') STORED,
    template     text        NOT NULL CHECK (template ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    -- The tenant the mail is about, if any (the logs page filters by it).
    tenant_id    text,
    to_addresses text[]      NOT NULL CHECK (cardinality(to_addresses) BETWEEN 1 AND 50),
    subject      text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 300),
    body_text    text        NOT NULL,
    body_html    text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- pending: waiting for (or being) sent; sent: the server accepted it; dead: gave up after the attempt budget.
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    -- Due time while pending; lease expiry while a silo is sending it.
    run_at       timestamptz NOT NULL DEFAULT now(),
    -- Which claim holds the lease: a sender whose lease ran out (another silo took the row) cannot finish it.
    claim        uuid,
    attempts     integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   text        CHECK (char_length(last_error) <= 1000),
    sent_at      timestamptz,
    -- A sent row says when; an unsent one does not.
    CONSTRAINT mail_outbox_sent_has_time CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    -- Only a pending row can be claimed.
    CONSTRAINT mail_outbox_claim_pending CHECK (claim IS NULL OR status = 'pending')
);
-- Matches the claim: WHERE status = 'pending' AND run_at <= now() ORDER BY run_at, id.
CREATE INDEX mail_outbox_due ON mail_outbox (run_at, id) WHERE status = 'pending';
-- The logs page's time order.
CREATE INDEX mail_outbox_by_time ON mail_outbox (created_at DESC, seq DESC);
