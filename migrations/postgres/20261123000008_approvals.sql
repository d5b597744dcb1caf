-- Approval requests: someone (a person, or an API token acting as its own principal)
-- asks named approvers (groups, users, a role, a token) to
-- say yes or no before something goes on (a template run, a release). A request is
-- decided once; `version` is bumped by every decision, so two approvers deciding at the
-- same moment cannot both move it.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,      -- markdown
    requested_by TEXT NOT NULL,     -- the principal's actor name: user:<name>, token:<name>
    subject TEXT NOT NULL,          -- JSON: {kind: task|entity|environment|external, …}
    context TEXT NOT NULL,          -- JSON object shown to approvers
    approvers TEXT NOT NULL,        -- JSON array: group:ns/name, user:ns/name, role:admin, token:name
    min_approvals INTEGER NOT NULL,
    status TEXT NOT NULL,           -- pending | approved | rejected | expired | cancelled
    callback_url TEXT,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT
);

CREATE INDEX approvals_status ON approvals (status, expires_at);
CREATE INDEX approvals_created ON approvals (created_at, id);
CREATE INDEX approvals_requester ON approvals (requested_by, created_at);

-- Every decision, final: one per approver and request.
CREATE TABLE approval_decisions (
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    decided_by TEXT NOT NULL,       -- actor name
    decision TEXT NOT NULL,         -- approve | reject
    comment TEXT,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (approval_id, decided_by)
);

-- Calls to a request's callback_url once it is decided (or expires, or is cancelled):
-- written in the transaction that decides it, delivered by a worker, signed, retried
-- with backoff. `next_at` is when to try next; none once delivered or given up.
CREATE TABLE approval_callbacks (
    id TEXT PRIMARY KEY,
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    url TEXT NOT NULL,
    event TEXT NOT NULL,            -- approval.decided | approval.expired | approval.cancelled
    body TEXT NOT NULL,             -- the JSON sent, signed byte for byte
    attempts INTEGER NOT NULL,
    next_at BIGINT,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX approval_callbacks_due ON approval_callbacks (next_at);
