-- People who signed in: one row per identity (the provider's issuer and subject, or a
-- demo person), created at first sign-in and refreshed at every sign-in.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL UNIQUE,   -- `issuer#sub`, or `demo#name`
    name TEXT NOT NULL,
    email TEXT,
    groups TEXT NOT NULL,           -- JSON array: the groups at the last sign-in
    role TEXT NOT NULL,             -- viewer | developer | sre | admin
    entity_ref TEXT,                -- the catalog User entity linked at sign-in
    created_at BIGINT NOT NULL,     -- Unix time in milliseconds
    last_login_at BIGINT NOT NULL
);

-- API tokens for CI/CD and scripts. Only a hash of the secret is kept.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the secret
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- One live token per name, so a name says which token it is.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Who did what, newest last; never updated.
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,             -- Unix time in milliseconds
    actor TEXT NOT NULL,            -- user:<name>, token:<name>, anonymous, system
    action TEXT NOT NULL,           -- sign-in, token.create, catalog.location.create, …
    target TEXT NOT NULL,           -- what it was done to ('' when nothing in particular)
    outcome TEXT NOT NULL,          -- ok | denied | failed
    detail TEXT NOT NULL            -- JSON object
);

CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- Browser sessions (tower-sessions records), kept across restarts.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,             -- JSON object
    expires_at BIGINT NOT NULL      -- Unix time in seconds
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);
